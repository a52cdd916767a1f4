package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decode JPEG QR images
	_ "image/png"  // decode PNG QR images
	"io"
	"os"
	"strings"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/mdp/qrterminal/v3"
	qrcode "github.com/skip2/go-qrcode"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cairn-dev/cairn"
)

type pairFlags struct {
	ttl  time.Duration
	sas  bool
	name string
}

func (a *app) pairCommand() *cobra.Command {
	var pf pairFlags
	c := &cobra.Command{
		Use:   "pair",
		Short: "Pair with another device by PIN, QR code or link",
		Long: `Pair with another device. One device shows a secret, the other enters it:

  cairn pair pin          shows a PIN        ->  cairn pair enter [PIN]
  cairn pair qr           shows a QR code    ->  cairn pair scan [DATA] / --image FILE
  cairn pair link         shows a link       ->  cairn pair accept [URI]

Both devices need a way to meet: the same LAN (mDNS) or the same --relay.`,
		Args: groupArgs,
		RunE: groupRun,
	}
	c.PersistentFlags().DurationVar(&pf.ttl, "ttl", cairn.DefaultPairingTTL, "how long the PIN, QR code or link stays valid")
	c.PersistentFlags().BoolVar(&pf.sas, "sas", false, "show a verification code to compare on both devices")
	c.PersistentFlags().StringVar(&pf.name, "name", "", "the name the other device will know this one by (default: host name)")
	c.AddCommand(
		a.pairPinCommand(&pf),
		a.pairEnterCommand(&pf),
		a.pairQRCommand(&pf),
		a.pairScanCommand(&pf),
		a.pairLinkCommand(&pf),
		a.pairAcceptCommand(&pf),
	)
	return c
}

// groupArgs and groupRun make a command that only groups subcommands reject
// unknown subcommands with a usage error.
func groupArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return nil
}

func groupRun(cmd *cobra.Command, args []string) error { return cmd.Help() }

func (a *app) pairingNode(pf *pairFlags) (*cairn.Node, error) {
	if pf.ttl <= 0 {
		return nil, usageErrorf("--ttl must be positive")
	}
	name := pf.name
	if name == "" {
		name, _ = os.Hostname()
	}
	if sanitizeName(name) != name || len(name) > maxPeerName {
		return nil, usageErrorf("--name: at most %d characters, without control characters", maxPeerName)
	}
	return a.openNode(online, cairn.WithPairingTTL(pf.ttl), cairn.WithName(name))
}

func (a *app) pairPinCommand(pf *pairFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "pin",
		Short: "Show a PIN for the other device to enter, and wait",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmdContext(cmd)
			return a.initiate(ctx, pf, func(n *cairn.Node) (*cairn.Pairing, func() error, error) {
				p, err := n.PairGeneratePin(ctx)
				if err != nil {
					return nil, nil, err
				}
				return &p.Pairing, func() error {
					if a.jsonOut {
						if err := a.emit(map[string]any{"event": "pin", "pin": p.Pin, "expires": p.Expires().UTC().Format(time.RFC3339)}); err != nil {
							return err
						}
					} else {
						pin := p.Pin
						if isTerminal(a.stdout) {
							pin = "\x1b[1m" + strings.Join(strings.Split(pin, ""), " ") + "\x1b[0m"
						}
						a.printf("\n    PIN:  %s\n\n", pin)
						a.printf("On the other device run:  cairn pair enter\n")
						a.printf("The PIN expires in %s.\n", pf.ttl.Round(time.Second))
					}
					return nil
				}, nil
			})
		},
	}
}

func (a *app) pairQRCommand(pf *pairFlags) *cobra.Command {
	var pngFile string
	var noTerm bool
	c := &cobra.Command{
		Use:   "qr",
		Short: "Show a QR code for the other device to scan, and wait",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmdContext(cmd)
			return a.initiate(ctx, pf, func(n *cairn.Node) (*cairn.Pairing, func() error, error) {
				p, err := n.PairGenerateQR(ctx)
				if err != nil {
					return nil, nil, err
				}
				return &p.Pairing, func() error {
					if pngFile != "" {
						img, err := qrcode.Encode(p.Data, qrcode.Medium, 512)
						if err == nil {
							err = writeFileExclusive(pngFile, img)
						}
						if err != nil {
							p.Cancel()
							return fmt.Errorf("cannot write %s: %w", pngFile, err)
						}
					}
					if a.jsonOut {
						if err := a.emit(map[string]any{"event": "qr", "data": p.Data, "png": pngFile, "expires": p.Expires().UTC().Format(time.RFC3339)}); err != nil {
							return err
						}
					} else {
						if !noTerm {
							qrterminal.GenerateWithConfig(p.Data, qrterminal.Config{
								Level: qrterminal.M, Writer: a.stdout, HalfBlocks: true, QuietZone: 2,
								BlackChar: qrterminal.BLACK_BLACK, WhiteBlackChar: qrterminal.WHITE_BLACK,
								WhiteChar: qrterminal.WHITE_WHITE, BlackWhiteChar: qrterminal.BLACK_WHITE,
							})
						}
						if pngFile != "" {
							a.printf("QR code written to %s\n", pngFile)
						}
						a.printf("On the other device scan it, or run:  cairn pair scan --image FILE\n")
						a.printf("The code expires in %s.\n", pf.ttl.Round(time.Second))
					}
					return nil
				}, nil
			})
		},
	}
	c.Flags().StringVar(&pngFile, "png", "", "also write the QR code to this PNG file (mode 0600; it must not exist)")
	c.Flags().BoolVar(&noTerm, "no-terminal", false, "do not draw the QR code in the terminal")
	return c
}

// initiate starts a pairing with start, shows its material with the
// function start returns and waits for the responder.
func (a *app) initiate(ctx context.Context, pf *pairFlags, start func(*cairn.Node) (*cairn.Pairing, func() error, error)) error {
	n, err := a.pairingNode(pf)
	if err != nil {
		return err
	}
	defer n.Close()
	p, show, err := start(n)
	if err != nil {
		return fmt.Errorf("failed to start pairing: %w", err)
	}
	if err := show(); err != nil {
		p.Cancel()
		return err
	}
	return a.waitInitiator(ctx, p, pf)
}

// writeFileExclusive writes a new file readable only by its owner.
func writeFileExclusive(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	return f.Close()
}

func (a *app) pairLinkCommand(pf *pairFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "link",
		Short: "Show a cairn:// link for the other device to open, and wait",
		Args:  argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmdContext(cmd)
			return a.initiate(ctx, pf, func(n *cairn.Node) (*cairn.Pairing, func() error, error) {
				p, err := n.PairGenerateLink(ctx)
				if err != nil {
					return nil, nil, err
				}
				return &p.Pairing, func() error {
					if a.jsonOut {
						if err := a.emit(map[string]any{"event": "link", "uri": p.URI, "expires": p.Expires().UTC().Format(time.RFC3339)}); err != nil {
							return err
						}
					} else {
						a.printf("%s\n", p.URI)
						a.printf("On the other device run:  cairn pair accept   (and paste the link)\n")
						a.printf("The link expires in %s.\n", pf.ttl.Round(time.Second))
					}
					return nil
				}, nil
			})
		},
	}
}

// waitInitiator waits for the responder and reports the new peer.
func (a *app) waitInitiator(ctx context.Context, p *cairn.Pairing, pf *pairFlags) error {
	a.status("Waiting for peer...\n")
	res, err := p.Result(ctx)
	if err != nil {
		p.Cancel()
		return fmt.Errorf("pairing failed: %w", timeoutOr(ctx, err))
	}
	return a.reportPaired(res.Peer, res.Name, res.SAS, pf.sas)
}

func (a *app) reportPaired(peer cairn.PeerID, name string, sas cairn.SAS, showSAS bool) error {
	if a.jsonOut {
		out := map[string]any{"event": "paired", "peer": peer.String(), "name": name}
		if showSAS {
			out["sas"] = map[string]any{"numeric": sas.Numeric, "emoji": sas.Emoji}
		}
		return a.emit(out)
	}
	if name != "" {
		a.printf("Paired with: %s (%s)\n", peer, sanitizeName(name))
	} else {
		a.printf("Paired with: %s\n", peer)
	}
	if showSAS {
		a.printf("Verification code: %s  %s\n", sas.Numeric, strings.Join(sas.Emoji, " "))
		a.printf("Check that the other device shows the same code.\n")
	}
	return nil
}

// reportResponder reports a pairing made by this device as the responder.
func (a *app) reportResponder(n *cairn.Node, peer cairn.PeerID, pf *pairFlags) error {
	var name string
	if ps, err := n.Peers(); err == nil {
		for _, p := range ps {
			if p.ID == peer {
				name = p.Name
			}
		}
	}
	var sas cairn.SAS
	if pf.sas {
		s, err := n.SAS(peer)
		if err != nil {
			return fmt.Errorf("paired, but failed to compute the verification code: %w", err)
		}
		sas = s
	}
	return a.reportPaired(peer, name, sas, pf.sas)
}

func (a *app) pairEnterCommand(pf *pairFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "enter [PIN]",
		Short: "Enter the PIN another device shows",
		Long: `Enter the PIN another device shows (cairn pair pin).

Without the PIN argument it is read from $CAIRN_PIN, else asked for without
echo when stdin is a terminal, else read as one line from stdin. Prefer those
to the argument, which other users of this machine can see in ps.`,
		Args: argsUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmdContext(cmd)
			pin, err := a.secretInput(ctx, args, "CAIRN_PIN", "PIN")
			if err != nil {
				return err
			}
			return a.respond(ctx, pf, pin, (*cairn.Node).PairEnterPin)
		},
	}
}

func (a *app) pairAcceptCommand(pf *pairFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "accept [URI]",
		Short: "Open the cairn:// link another device shows",
		Long: `Open the cairn:// link another device shows (cairn pair link).

Without the URI argument it is read from $CAIRN_LINK, else asked for (without
echo) when stdin is a terminal, else read as one line from stdin.`,
		Args: argsUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmdContext(cmd)
			uri, err := a.secretInput(ctx, args, "CAIRN_LINK", "Link")
			if err != nil {
				return err
			}
			return a.respond(ctx, pf, uri, (*cairn.Node).PairFromLink)
		},
	}
}

func (a *app) pairScanCommand(pf *pairFlags) *cobra.Command {
	var imageFile string
	c := &cobra.Command{
		Use:   "scan [DATA]",
		Short: "Pair from another device's QR code: its text, or a photo or screenshot of it",
		Long: `Pair from the QR code another device shows (cairn pair qr).

Give the text the QR code holds (DATA, or $CAIRN_QR, or one line on stdin), or
a PNG or JPEG image of it with --image FILE.`,
		Args: argsUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmdContext(cmd)
			var data string
			var err error
			if imageFile != "" {
				if len(args) > 0 {
					return usageErrorf("give either DATA or --image, not both")
				}
				data, err = decodeQRImage(imageFile)
			} else {
				data, err = a.secretInput(ctx, args, "CAIRN_QR", "QR data")
			}
			if err != nil {
				return err
			}
			return a.respond(ctx, pf, data, (*cairn.Node).PairScanQR)
		},
	}
	c.Flags().StringVar(&imageFile, "image", "", "PNG or JPEG image of the QR code")
	return c
}

// respond pairs as the responder with secret, the PIN, link or QR data
// the user gave, and reports the result.
func (a *app) respond(ctx context.Context, pf *pairFlags, secret string, pair func(*cairn.Node, context.Context, string) (cairn.PeerID, error)) error {
	n, err := a.pairingNode(pf)
	if err != nil {
		return err
	}
	defer n.Close()
	a.status("Pairing...\n")
	peer, err := pair(n, ctx, secret)
	if err != nil {
		return responderError(ctx, err)
	}
	return a.reportResponder(n, peer, pf)
}

// responderError explains why pairing as the responder failed.
func responderError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, cairn.ErrNoSuchPairing):
		return fmt.Errorf("%w: check it, or ask for a new one", cairn.ErrNoSuchPairing)
	case errors.Is(err, cairn.ErrPeerNotFound) && ctx.Err() == nil:
		return fmt.Errorf("%w: no device is showing this code; check it, and that both devices use the same relay (or LAN)", cairn.ErrPeerNotFound)
	}
	return timeoutOr(ctx, err)
}

// maxImageSize bounds the QR image file we read.
const maxImageSize = 32 << 20

// decodeQRImage finds the QR code in a PNG or JPEG file.
func decodeQRImage(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", fmt.Errorf("cannot read image %s: %w", name, unwrapPathErr(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxImageSize+1))
	if err != nil {
		return "", fmt.Errorf("cannot read image %s: %w", name, unwrapPathErr(err))
	}
	if len(b) > maxImageSize {
		return "", fmt.Errorf("cannot read image %s: larger than %d MiB", name, maxImageSize>>20)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("cannot read image %s: not a PNG or JPEG image", name)
	}
	if cfg.Width*cfg.Height > 64<<20 {
		return "", fmt.Errorf("cannot read image %s: %dx%d pixels is too large", name, cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("cannot read image %s: %v", name, err)
	}
	text, ok := decodeQR(img)
	if !ok {
		return "", fmt.Errorf("no QR code found in %s", name)
	}
	return text, nil
}

// decodeQR tries the binarizers and hints in turn: the first alone missed
// 4 of 300 random payloads rendered by --png, all four together none.
func decodeQR(img image.Image) (string, bool) {
	src := gozxing.NewLuminanceSourceFromImage(img)
	binarizers := []func(gozxing.LuminanceSource) gozxing.Binarizer{gozxing.NewHybridBinarizer, gozxing.NewGlobalHistgramBinarizer}
	hints := []map[gozxing.DecodeHintType]any{
		{gozxing.DecodeHintType_TRY_HARDER: true},
		{gozxing.DecodeHintType_PURE_BARCODE: true},
	}
	for _, bin := range binarizers {
		for _, h := range hints {
			bmp, err := gozxing.NewBinaryBitmap(bin(src))
			if err != nil {
				return "", false
			}
			if res, err := gozxingqr.NewQRCodeReader().Decode(bmp, h); err == nil {
				return res.GetText(), true
			}
		}
	}
	return "", false
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// maxSecretLine bounds a PIN, link or QR text read from stdin.
const maxSecretLine = 4096

// secretInput returns a secret from args, else the environment variable env,
// else a no-echo prompt on a terminal, else one line of stdin.
func (a *app) secretInput(ctx context.Context, args []string, env, what string) (string, error) {
	if len(args) > 0 {
		return strings.TrimSpace(args[0]), nil
	}
	if v := os.Getenv(env); v != "" {
		return strings.TrimSpace(v), nil
	}
	if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		s, err := promptHidden(ctx, f, a.stderr, what+": ")
		if err != nil {
			return "", err
		}
		if s == "" {
			return "", usageErrorf("no %s entered", what)
		}
		return s, nil
	}
	line, err := bufio.NewReaderSize(io.LimitReader(a.stdin, maxSecretLine), maxSecretLine).ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "" {
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("cannot read the %s from stdin: %w", what, err)
		}
		return "", usageErrorf("no %s: pass it as an argument, in $%s, or on stdin", what, env)
	}
	return line, nil
}

// promptHidden reads a line from the terminal in without echo. Ctrl-C (which
// ends ctx) restores the terminal and returns.
func promptHidden(ctx context.Context, in *os.File, out io.Writer, prompt string) (string, error) {
	fd := int(in.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	fmt.Fprint(out, prompt)
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(out)
		if r.err != nil {
			return "", fmt.Errorf("cannot read the terminal: %w", r.err)
		}
		return strings.TrimSpace(string(r.b)), nil
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		fmt.Fprintln(out)
		return "", ctx.Err()
	}
}
