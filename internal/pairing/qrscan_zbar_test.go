package pairing

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scanZbar decodes a QR code PNG with zbarimg (Debian zbar-tools). It skips
// when zbarimg is missing, except under CI=true.
func scanZbar(t *testing.T, pngData []byte) string {
	t.Helper()
	bin, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("zbarimg not found; install zbar-tools")
		}
		t.Skip("zbarimg not found; install zbar-tools to scan the QR code")
	}
	f := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(f, pngData, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--raw", "-q", f).Output()
	if err != nil {
		t.Fatalf("zbarimg could not scan the QR code: %v", err)
	}
	return strings.TrimSuffix(string(out), "\n")
}
