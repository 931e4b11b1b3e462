package testenv

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Partition is a TCP proxy to a real server that can drop everything, as
// a network partition that loses packets does: while Drop is on, bytes in
// either direction are read and thrown away and no connection is closed,
// so the client waits on silence, not on a refusal.
type Partition struct {
	Addr string
	drop atomic.Bool
	ln   net.Listener
	mu   sync.Mutex
	cs   []net.Conn
}

// NewPartition proxies a loopback port to target until the test ends.
func NewPartition(t testing.TB, target string) *Partition {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Partition{Addr: ln.Addr().String(), ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c, target)
		}
	}()
	t.Cleanup(p.close)
	return p
}

// Drop starts (true) or ends (false) the partition.
func (p *Partition) Drop(on bool) { p.drop.Store(on) }

func (p *Partition) serve(c net.Conn, target string) {
	up, err := net.Dial("tcp", target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.cs = append(p.cs, c, up)
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 && !p.drop.Load() {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				if err != io.EOF {
					return
				}
				dst.(*net.TCPConn).CloseWrite()
				return
			}
		}
	}
	go pipe(up, c)
	pipe(c, up)
}

func (p *Partition) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.cs {
		c.Close()
	}
}
