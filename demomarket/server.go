package demomarket

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Server is a Market being served on a local address.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	stop func() bool
	done chan struct{}
}

// Start serves m on addr ("127.0.0.1:0" picks a free port) until ctx is
// done or Close is called.
func Start(ctx context.Context, m *Market, addr string) (*Server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	s := &Server{
		srv:  &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second},
		ln:   ln,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		s.srv.Serve(ln)
	}()
	s.stop = context.AfterFunc(ctx, func() { s.srv.Close() })
	return s, nil
}

// URL returns the server's base URL, e.g. "http://127.0.0.1:43127".
func (s *Server) URL() string {
	return "http://" + s.ln.Addr().String()
}

// Close stops the server and waits for it to finish.
func (s *Server) Close() error {
	s.stop()
	err := s.srv.Close()
	<-s.done
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("close demo market: %w", err)
	}
	return nil
}
