package dropq

import "testing"

func TestDropsOldest(t *testing.T) {
	q := New[int](3)
	for i := range 5 {
		q.Push(i)
	}
	if d := q.Dropped(); d != 2 {
		t.Fatalf("Dropped = %d, want 2", d)
	}
	q.PushLast(5)
	q.Push(6) // after PushLast: ignored
	var got []int
	for v := range q.C() {
		got = append(got, v)
	}
	if len(got) != 3 || got[0] != 3 || got[1] != 4 || got[2] != 5 {
		t.Fatalf("got %v, want [3 4 5]", got)
	}
}
