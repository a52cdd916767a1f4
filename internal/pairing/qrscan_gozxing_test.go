//go:build gozxing

// This scanner needs golang.org/x/text in go.sum (gozxing imports it); build
// with -tags gozxing once it is there.

package pairing

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
)

// scanGozxing decodes a QR code PNG with gozxing.
func scanGozxing(t *testing.T, pngData []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("gozxing could not scan the QR code: %v", err)
	}
	return res.GetText()
}
