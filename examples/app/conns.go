package main

import (
	"net"
	"net/http"
	"sync"
)

// freshConns tracks connections that have not sent a request yet.
// http.Server.Shutdown waits for those for up to 5 s (it counts a new
// connection as idle only after that), so a proxy's spare connection would
// hold a stop-then-start swap open that long. Nothing was asked on them:
// closing them at shutdown loses nothing.
type freshConns struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// track is an http.Server ConnState hook.
func (f *freshConns) track(c net.Conn, state http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conns == nil {
		f.conns = map[net.Conn]struct{}{}
	}
	if state == http.StateNew {
		f.conns[c] = struct{}{}
	} else {
		delete(f.conns, c)
	}
}

// closeAll closes the connections still waiting for their first request;
// registered with RegisterOnShutdown, it runs once the listener is closed.
func (f *freshConns) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		c.Close()
		delete(f.conns, c)
	}
}
