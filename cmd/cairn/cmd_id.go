package main

import (
	"github.com/spf13/cobra"
	"strings"
	"unicode"

	"github.com/cairn-dev/cairn/cmd/cairn/internal/transfer"
)

// sanitizeName makes a name from a peer safe to print on a terminal.
func sanitizeName(s string) string { return transfer.Sanitize(s) }

// sanitizeText makes a chat line from a peer safe to print whole: control
// and invisible format characters (but tabs) and invalid UTF-8 become '?'.
func sanitizeText(s string) string {
	return strings.Map(func(r rune) rune {
		if r != '\t' && unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}

func (a *app) idCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "id",
		Short: "Print this device's PeerID (creating the identity on first run)",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := a.openNode(offline)
			if err != nil {
				return err
			}
			defer n.Close()
			dir, _ := a.dataDirectory()
			if a.jsonOut {
				return a.emit(map[string]string{"peer_id": n.PeerID().String(), "short": n.PeerID().Short(), "data_dir": dir})
			}
			a.printf("%s\n", n.PeerID())
			if a.verbose > 0 {
				a.printf("data directory: %s\n", dir)
			}
			return nil
		},
	}
}
