package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"image"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// TestDecodeQRRandomPayloads renders payload-sized random strings as --png
// does and decodes them back: a QR code the command wrote must always scan.
func TestDecodeQRRandomPayloads(t *testing.T) {
	n := 100
	if testing.Short() {
		n = 20
	}
	for i := range n {
		b := make([]byte, 150)
		rand.Read(b)
		data := "CAIRN1:" + base64.RawURLEncoding.EncodeToString(b)
		png, err := qrcode.Encode(data, qrcode.Medium, 512)
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(bytes.NewReader(png))
		if err != nil {
			t.Fatal(err)
		}
		got, ok := decodeQR(img)
		if !ok || got != data {
			t.Fatalf("payload %d did not scan back: ok=%v", i, ok)
		}
	}
}
