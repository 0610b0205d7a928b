package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"
)

// Buckets of accounts, sessions and API tokens. Session and token keys are
// the sha256 of the secret, so a copy of the file does not hand out logins.
var (
	bucketUsers    = []byte("users")    // name → JSON User
	bucketSessions = []byte("sessions") // sha256(token) → JSON Session
	bucketTokens   = []byte("tokens")   // sha256(token) → JSON Token
)

// Errors of the account functions.
var (
	// ErrBadCredentials is returned by Authenticate and TokenUser for an
	// unknown name, a wrong password, a disabled account or an unknown
	// token; callers must not tell these apart to the client.
	ErrBadCredentials = errors.New("bad credentials")
	// ErrUserExists is returned by AddUser for a name already taken.
	ErrUserExists = errors.New("user exists")
	// ErrInvalid is returned for a malformed name, role or password.
	ErrInvalid = errors.New("invalid")
)

// Role is what an account may do. Each role includes the ones before it:
// an approver is also an analyst, an admin is also an approver.
type Role string

// The roles.
const (
	// RoleAnalyst reviews listings: confirm, dismiss.
	RoleAnalyst Role = "analyst"
	// RoleApprover also approves takedown notices and marks them sent.
	RoleApprover Role = "approver"
	// RoleAdmin also manages accounts, tokens and sweeps.
	RoleAdmin Role = "admin"
)

func (r Role) rank() int {
	switch r {
	case RoleAnalyst:
		return 1
	case RoleApprover:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether an account with role r may do what needs want.
func (r Role) Allows(want Role) bool { return r.Valid() && r.rank() >= want.rank() }

// User is an account that may log in to the web UI.
type User struct {
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	PasswordHash []byte    `json:"password_hash"`
	Created      time.Time `json:"created"`
	Disabled     bool      `json:"disabled,omitempty"`
}

// Session is a logged-in browser. The token that names it is only ever
// known to the browser; the store keeps its hash.
type Session struct {
	// ID is the hex sha256 of the token, safe to log.
	ID   string `json:"id"`
	User string `json:"user"`
	// CSRF is the anti-forgery token forms and scripts must echo.
	CSRF    string    `json:"csrf"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// Token is an API bearer token; like sessions, only its hash is stored.
type Token struct {
	ID      string    `json:"id"`
	User    string    `json:"user"`
	Label   string    `json:"label"`
	Created time.Time `json:"created"`
}

// MinPasswordLen is the shortest password AddUser and SetPassword accept.
const MinPasswordLen = 8

// dummyHash is compared against when the account does not exist, so that
// an unknown name costs as much time as a wrong password.
const dummyHash = "$2a$10$Aet4QRqWWrMdo6Btt2E5.uoMtdpIb237Kxi9qZcYxr8t.zO8mwwXS"

// ValidUserName reports whether name can name an account: 1–64 letters,
// digits, '.', '-', '_' or '@'.
func ValidUserName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(".-_@", r)) {
			return false
		}
	}
	return true
}

func hashPassword(password string) ([]byte, error) {
	if len(password) < MinPasswordLen {
		return nil, fmt.Errorf("password shorter than %d characters: %w", MinPasswordLen, ErrInvalid)
	}
	if len(password) > 72 {
		return nil, fmt.Errorf("password longer than 72 bytes: %w", ErrInvalid)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

func userBucket(tx *bolt.Tx, name []byte) (*bolt.Bucket, error) {
	if tx.Writable() {
		b, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return nil, fmt.Errorf("create bucket %s: %w", name, err)
		}
		return b, nil
	}
	return tx.Bucket(name), nil
}

func getUser(tx *bolt.Tx, name string) (User, error) {
	var u User
	b, err := userBucket(tx, bucketUsers)
	if err != nil {
		return u, err
	}
	if b == nil {
		return u, fmt.Errorf("user %s: %w", name, ErrNotFound)
	}
	v := b.Get([]byte(name))
	if v == nil {
		return u, fmt.Errorf("user %s: %w", name, ErrNotFound)
	}
	if err := json.Unmarshal(v, &u); err != nil {
		return u, fmt.Errorf("decode user %s: %w", name, err)
	}
	return u, nil
}

func putUser(tx *bolt.Tx, u User) error {
	b, err := userBucket(tx, bucketUsers)
	if err != nil {
		return err
	}
	buf, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encode user %s: %w", u.Name, err)
	}
	if err := b.Put([]byte(u.Name), buf); err != nil {
		return fmt.Errorf("put user %s: %w", u.Name, err)
	}
	return nil
}

// AddUser creates an account with a bcrypt hash of password. The audit
// entry that audit builds from the new account is appended in the same
// transaction.
func (s *Store) AddUser(ctx context.Context, name string, role Role, password string, audit AuditFunc[User]) error {
	if !ValidUserName(name) {
		return fmt.Errorf("add user %q: bad name: %w", name, ErrInvalid)
	}
	if !role.Valid() {
		return fmt.Errorf("add user %s: unknown role %q: %w", name, role, ErrInvalid)
	}
	h, err := hashPassword(password)
	if err != nil {
		return fmt.Errorf("add user %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if _, err := getUser(tx, name); err == nil {
			return fmt.Errorf("add user %s: %w", name, ErrUserExists)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		u := User{Name: name, Role: role, PasswordHash: h, Created: time.Now().UTC()}
		if err := putUser(tx, u); err != nil {
			return err
		}
		return audit.appendIn(tx, u)
	})
}

// User returns the account called name, or ErrNotFound.
func (s *Store) User(ctx context.Context, name string) (User, error) {
	var u User
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		u, err = getUser(tx, name)
		return err
	})
	return u, err
}

// Users returns every account, sorted by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	var out []User
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var u User
			if err := json.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("decode user %s: %w", k, err)
			}
			out = append(out, u)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// updateUser applies fn to the stored account called name and appends the
// audit entry that audit builds from the changed account, in one
// transaction.
func (s *Store) updateUser(name string, audit AuditFunc[User], fn func(tx *bolt.Tx, u *User) error) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		u, err := getUser(tx, name)
		if err != nil {
			return err
		}
		if err := fn(tx, &u); err != nil {
			return err
		}
		if err := putUser(tx, u); err != nil {
			return err
		}
		return audit.appendIn(tx, u)
	})
}

// SetPassword replaces the password of an account and ends its sessions.
func (s *Store) SetPassword(ctx context.Context, name, password string) error {
	h, err := hashPassword(password)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	if err := s.updateUser(name, nil, func(_ *bolt.Tx, u *User) error { u.PasswordHash = h; return nil }); err != nil {
		return err
	}
	return s.DeleteUserSessions(ctx, name)
}

// SetRole changes the role of an account. The audit entry that audit builds
// from the changed account is appended in the same transaction.
func (s *Store) SetRole(ctx context.Context, name string, role Role, audit AuditFunc[User]) error {
	if !role.Valid() {
		return fmt.Errorf("set role of %s: unknown role %q: %w", name, role, ErrInvalid)
	}
	return s.updateUser(name, audit, func(_ *bolt.Tx, u *User) error { u.Role = role; return nil })
}

// SetDisabled disables or re-enables an account; disabling ends its
// sessions and makes its tokens unusable. The change, the end of the
// sessions and the audit entry that audit builds from the changed account
// are one transaction, so an account is never disabled with its sessions
// still live.
func (s *Store) SetDisabled(ctx context.Context, name string, disabled bool, audit AuditFunc[User]) error {
	return s.updateUser(name, audit, func(tx *bolt.Tx, u *User) error {
		u.Disabled = disabled
		if !disabled {
			return nil
		}
		return deleteSessionsIn(tx, func(sess Session) bool { return sess.User == name })
	})
}

// Authenticate returns the account called name if password is its
// password. Every failure is ErrBadCredentials, and an unknown name takes
// as long as a wrong password.
func (s *Store) Authenticate(ctx context.Context, name, password string) (User, error) {
	u, err := s.User(ctx, name)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			return User{}, err
		}
		bcrypt.CompareHashAndPassword([]byte(dummyHash), []byte(password))
		return User{}, ErrBadCredentials
	}
	if err := bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(password)); err != nil || u.Disabled {
		return User{}, ErrBadCredentials
	}
	return u, nil
}

// newSecret returns 32 random bytes, base64url-encoded, with prefix.
func newSecret(prefix string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random secret: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func secretKey(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return []byte(hex.EncodeToString(sum[:]))
}

// CreateSession starts a session for user lasting ttl and returns it with
// the token to hand to the browser.
func (s *Store) CreateSession(ctx context.Context, user string, ttl time.Duration) (Session, string, error) {
	token, err := newSecret("")
	if err != nil {
		return Session{}, "", err
	}
	csrf, err := newSecret("")
	if err != nil {
		return Session{}, "", err
	}
	now := time.Now().UTC()
	sess := Session{ID: string(secretKey(token)), User: user, CSRF: csrf, Created: now, Expires: now.Add(ttl)}
	err = s.db.Update(func(tx *bolt.Tx) error {
		if _, err := getUser(tx, user); err != nil {
			return err
		}
		b, err := userBucket(tx, bucketSessions)
		if err != nil {
			return err
		}
		buf, err := json.Marshal(sess)
		if err != nil {
			return fmt.Errorf("encode session: %w", err)
		}
		if err := b.Put([]byte(sess.ID), buf); err != nil {
			return fmt.Errorf("put session: %w", err)
		}
		return nil
	})
	if err != nil {
		return Session{}, "", fmt.Errorf("create session for %s: %w", user, err)
	}
	return sess, token, nil
}

// Session returns the live session named by token and its account, or
// ErrNotFound when the token is unknown, expired, or its account is gone
// or disabled.
func (s *Store) Session(ctx context.Context, token string) (Session, User, error) {
	var sess Session
	var u User
	if token == "" {
		return sess, u, fmt.Errorf("session: %w", ErrNotFound)
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		if b == nil {
			return fmt.Errorf("session: %w", ErrNotFound)
		}
		v := b.Get(secretKey(token))
		if v == nil {
			return fmt.Errorf("session: %w", ErrNotFound)
		}
		if err := json.Unmarshal(v, &sess); err != nil {
			return fmt.Errorf("decode session: %w", err)
		}
		if !time.Now().Before(sess.Expires) {
			return fmt.Errorf("session expired: %w", ErrNotFound)
		}
		var err error
		u, err = getUser(tx, sess.User)
		if err != nil {
			return err
		}
		if u.Disabled {
			return fmt.Errorf("session of disabled user: %w", ErrNotFound)
		}
		return nil
	})
	return sess, u, err
}

// DeleteSession ends the session named by token (logout). Ending an
// unknown session is not an error.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := userBucket(tx, bucketSessions)
		if err != nil {
			return err
		}
		if err := b.Delete(secretKey(token)); err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
		return nil
	})
}

// DeleteUserSessions ends every session of user.
func (s *Store) DeleteUserSessions(ctx context.Context, user string) error {
	return s.deleteSessionsWhere(func(sess Session) bool { return sess.User == user })
}

// PurgeSessions deletes expired sessions and returns how many.
func (s *Store) PurgeSessions(ctx context.Context) (int, error) {
	now := time.Now()
	n := 0
	err := s.deleteSessionsWhere(func(sess Session) bool {
		if !now.Before(sess.Expires) {
			n++
			return true
		}
		return false
	})
	return n, err
}

func (s *Store) deleteSessionsWhere(match func(Session) bool) error {
	return s.db.Update(func(tx *bolt.Tx) error { return deleteSessionsIn(tx, match) })
}

// deleteSessionsIn deletes the sessions match selects (and unreadable
// ones) inside tx.
func deleteSessionsIn(tx *bolt.Tx, match func(Session) bool) error {
	b, err := userBucket(tx, bucketSessions)
	if err != nil {
		return err
	}
	var del [][]byte
	err = b.ForEach(func(k, v []byte) error {
		var sess Session
		if json.Unmarshal(v, &sess) != nil || match(sess) {
			del = append(del, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range del {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
	}
	return nil
}

// CreateToken issues an API bearer token for user and returns it; it is
// shown once and only its hash is kept. The audit entry that audit builds
// from the token's record (which holds no secret) is appended in the same
// transaction.
func (s *Store) CreateToken(ctx context.Context, user, label string, audit AuditFunc[Token]) (string, error) {
	token, err := newSecret("pat_")
	if err != nil {
		return "", err
	}
	key := secretKey(token)
	t := Token{ID: string(key[:12]), User: user, Label: label, Created: time.Now().UTC()}
	err = s.db.Update(func(tx *bolt.Tx) error {
		if _, err := getUser(tx, user); err != nil {
			return err
		}
		b, err := userBucket(tx, bucketTokens)
		if err != nil {
			return err
		}
		buf, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("encode token: %w", err)
		}
		if err := b.Put(key, buf); err != nil {
			return fmt.Errorf("put token: %w", err)
		}
		return audit.appendIn(tx, t)
	})
	if err != nil {
		return "", fmt.Errorf("create token for %s: %w", user, err)
	}
	return token, nil
}

// Tokens lists the API tokens of user ("" for every user), without the
// secrets.
func (s *Store) Tokens(ctx context.Context, user string) ([]Token, error) {
	var out []Token
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var t Token
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("decode token: %w", err)
			}
			if user == "" || t.User == user {
				out = append(out, t)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, err
}

// RevokeToken deletes the token whose ID (as listed by Tokens) is id.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := userBucket(tx, bucketTokens)
		if err != nil {
			return err
		}
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if strings.HasPrefix(string(k), id) && len(id) >= 12 {
				return b.Delete(k)
			}
		}
		return fmt.Errorf("token %s: %w", id, ErrNotFound)
	})
}

// TokenUser returns the account an API token belongs to, or
// ErrBadCredentials.
func (s *Store) TokenUser(ctx context.Context, token string) (User, error) {
	var u User
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		if b == nil || token == "" {
			return ErrBadCredentials
		}
		v := b.Get(secretKey(token))
		if v == nil {
			return ErrBadCredentials
		}
		var t Token
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("decode token: %w", err)
		}
		var err error
		u, err = getUser(tx, t.User)
		if err != nil || u.Disabled {
			return ErrBadCredentials
		}
		return nil
	})
	return u, err
}
