package session

// notifier wakes every goroutine waiting for a state change. The zero value is
// ready. All methods must be called with the session mutex held.
type notifier struct{ ch chan struct{} }

// wait returns a channel closed by the next broadcast.
func (n *notifier) wait() <-chan struct{} {
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *notifier) broadcast() {
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}
