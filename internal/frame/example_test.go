package frame_test

import (
	"bytes"
	"fmt"

	"github.com/cairn-dev/cairn/internal/frame"
)

func Example() {
	var conn bytes.Buffer // a net.Conn in real use
	w := frame.NewWriter(&conn)
	_ = w.WriteFrame(frame.TypeHello, []byte("cairn"))
	fmt.Printf("% x\n", conn.Bytes())

	r := frame.NewReader(&conn, frame.MaxFrameSize)
	typ, body, err := r.ReadFrame()
	fmt.Println(typ, string(body), err)
	// Output:
	// 00 00 00 06 10 63 61 69 72 6e
	// hello cairn <nil>
}
