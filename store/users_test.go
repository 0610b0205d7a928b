package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func openTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "patrol.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAddUserAuthenticate(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	if err := s.AddUser(ctx, "ana", RoleAnalyst, "correct horse", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser(ctx, "ana", RoleAdmin, "correct horse", nil); !errors.Is(err, ErrUserExists) {
		t.Errorf("AddUser(duplicate) = %v, want ErrUserExists", err)
	}
	tests := []struct {
		name, user, pass string
		want             error
	}{
		{"right", "ana", "correct horse", nil},
		{"wrong password", "ana", "battery staple", ErrBadCredentials},
		{"unknown user", "bob", "correct horse", ErrBadCredentials},
		{"empty", "", "", ErrBadCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := s.Authenticate(ctx, tt.user, tt.pass)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Authenticate(%q, %q) = %v, want %v", tt.user, tt.pass, err, tt.want)
			}
			if err == nil && (u.Name != "ana" || u.Role != RoleAnalyst) {
				t.Errorf("Authenticate = %+v", u)
			}
		})
	}
	bad := []struct {
		name, user string
		role       Role
		pass       string
	}{
		{"short password", "c", RoleAnalyst, "short"},
		{"bad role", "c", Role("root"), "long enough"},
		{"bad name", "a b", RoleAnalyst, "long enough"},
	}
	for _, tt := range bad {
		if err := s.AddUser(ctx, tt.user, tt.role, tt.pass, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddUser(%s) = %v, want ErrInvalid", tt.name, err)
		}
	}
	if err := s.SetDisabled(ctx, "ana", true, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "ana", "correct horse"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("Authenticate(disabled) = %v, want ErrBadCredentials", err)
	}
}

func TestRoleAllows(t *testing.T) {
	tests := []struct {
		have, want Role
		ok         bool
	}{
		{RoleAnalyst, RoleAnalyst, true},
		{RoleAnalyst, RoleApprover, false},
		{RoleApprover, RoleAnalyst, true},
		{RoleAdmin, RoleApprover, true},
		{RoleApprover, RoleAdmin, false},
		{Role(""), RoleAnalyst, false},
	}
	for _, tt := range tests {
		if got := tt.have.Allows(tt.want); got != tt.ok {
			t.Errorf("%q.Allows(%q) = %v, want %v", tt.have, tt.want, got, tt.ok)
		}
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	if err := s.AddUser(ctx, "ana", RoleAnalyst, "correct horse", nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateSession(ctx, "nobody", time.Hour); !errors.Is(err, ErrNotFound) {
		t.Errorf("CreateSession(unknown user) = %v, want ErrNotFound", err)
	}
	sess, token, err := s.CreateSession(ctx, "ana", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if sess.CSRF == "" || token == "" || sess.ID == token {
		t.Fatalf("CreateSession = %+v, %q", sess, token)
	}
	got, u, err := s.Session(ctx, token)
	if err != nil || got.CSRF != sess.CSRF || u.Name != "ana" {
		t.Fatalf("Session(token) = %+v, %+v, %v", got, u, err)
	}
	if _, _, err := s.Session(ctx, sess.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Session(hash instead of token) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(ctx, token); !errors.Is(err, ErrNotFound) {
		t.Errorf("Session(after logout) = %v, want ErrNotFound", err)
	}
	_, expired, err := s.CreateSession(ctx, "ana", -time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(ctx, expired); !errors.Is(err, ErrNotFound) {
		t.Errorf("Session(expired) = %v, want ErrNotFound", err)
	}
	if n, err := s.PurgeSessions(ctx); err != nil || n != 1 {
		t.Errorf("PurgeSessions = %d, %v, want 1", n, err)
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	if err := s.AddUser(ctx, "bot", RoleAnalyst, "correct horse", nil); err != nil {
		t.Fatal(err)
	}
	tok, err := s.CreateToken(ctx, "bot", "ci", nil)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := s.TokenUser(ctx, tok); err != nil || u.Name != "bot" {
		t.Errorf("TokenUser(token) = %+v, %v", u, err)
	}
	if _, err := s.TokenUser(ctx, tok+"x"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("TokenUser(wrong) = %v, want ErrBadCredentials", err)
	}
	ts, err := s.Tokens(ctx, "bot")
	if err != nil || len(ts) != 1 || ts[0].Label != "ci" {
		t.Fatalf("Tokens = %+v, %v", ts, err)
	}
	if err := s.RevokeToken(ctx, ts[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TokenUser(ctx, tok); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("TokenUser(revoked) = %v, want ErrBadCredentials", err)
	}
}
