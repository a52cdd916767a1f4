package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) peersCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "peers",
		Short: "List paired peers, with names and when they were last seen",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := a.openNode(offline)
			if err != nil {
				return err
			}
			defer n.Close()
			ps, err := n.Peers()
			if err != nil {
				return err
			}
			if a.jsonOut {
				type peerJSON struct {
					ID       string    `json:"id"`
					Name     string    `json:"name"`
					PairedAt time.Time `json:"paired_at"`
					LastSeen time.Time `json:"last_seen"`
				}
				out := make([]peerJSON, 0, len(ps))
				for _, p := range ps {
					out = append(out, peerJSON{p.ID.String(), p.Name, p.PairedAt.UTC(), p.LastSeen.UTC()})
				}
				return a.emit(out)
			}
			if len(ps) == 0 {
				a.printf("No paired peers yet. Pair with: cairn pair pin\n")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tPEER ID\tPAIRED\tLAST SEEN")
			for _, p := range ps {
				name := sanitizeName(p.Name)
				if name == "" {
					name = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, p.ID, ago(p.PairedAt), ago(p.LastSeen))
			}
			return tw.Flush()
		},
	}
}

// ago is a short, human "time ago".
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	default:
		return t.Local().Format("2006-01-02")
	}
}

func (a *app) unpairCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "unpair PEER",
		Short: "Forget a paired peer (and tell it, if it can be reached)",
		Args:  argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := a.openNode(onlineIfPossible(a))
			if err != nil {
				return err
			}
			defer n.Close()
			id, err := n.ResolvePeer(args[0])
			if err != nil {
				return err
			}
			if err := n.Unpair(cmdContext(cmd), id); err != nil {
				return err
			}
			if a.jsonOut {
				return a.emit(map[string]string{"event": "unpaired", "peer": id.String()})
			}
			a.printf("Unpaired %s\n", id)
			return nil
		},
	}
}

// maxPeerName bounds the names people give devices.
const maxPeerName = 64

// onlineIfPossible is online when there is a way to reach peers.
func onlineIfPossible(a *app) nodeMode {
	if a.relayURL == "" && a.noMDNS {
		return offline
	}
	return online
}

func (a *app) renameCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rename PEER NAME",
		Short: "Give a paired peer a local name",
		Args:  argsUsage(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := a.openNode(offline)
			if err != nil {
				return err
			}
			defer n.Close()
			id, err := n.ResolvePeer(args[0])
			if err != nil {
				return err
			}
			name := args[1]
			if name == "" || sanitizeName(name) != name || len(name) > maxPeerName {
				return fmt.Errorf("%w: a name is 1 to %d characters, without control characters", errInvalidInput, maxPeerName)
			}
			if err := n.Rename(id, name); err != nil {
				return err
			}
			if a.jsonOut {
				return a.emit(map[string]string{"event": "renamed", "peer": id.String(), "name": name})
			}
			a.printf("Renamed %s to %s\n", id.Short(), name)
			return nil
		},
	}
}
