package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

	"github.com/patrol-dev/patrol/store"
)

// loginLimits slows down password guessing without letting a guesser lock
// the real user out.
//
// Failed logins are counted per client address (perAddr within addrWindow,
// then that address is refused until its failures age out) and per
// account: after free failures, each further attempt on the account must
// wait baseDelay after the last failure, twice as long for every failure
// beyond, up to maxDelay; the count is forgotten once no attempt has failed
// for forget (longer than maxDelay, so that a guesser who keeps to the
// slowest pace never earns the free tries back). An attacker who rotates
// addresses gets about four guesses an hour on an account instead of a
// fresh allowance per address, and a real user is kept out for at most
// maxDelay after the guessing stops: the account is never locked for good.
//
// While the guessing goes on, a browser that has logged in to the account
// before still gets in: a successful login sets a device cookie, signed
// with a key of this process, and attempts that carry a valid one for the
// account they name count against that device alone, not the account or
// the address (behind a reverse proxy every client shares the proxy's
// address, and X-Forwarded-For is not trusted since nothing configures
// which proxies to believe).
//
// An attempt is counted as a failure when it starts (begin) and uncounted
// if it succeeds, so parallel guesses cannot all pass the check before any
// failure is recorded.
type loginLimits struct {
	mu         sync.Mutex
	addrWindow time.Duration
	perAddr    int
	free       int
	baseDelay  time.Duration
	maxDelay   time.Duration
	forget     time.Duration
	deviceTTL  time.Duration
	key        []byte
	// addrs holds each address's failure times, oldest first.
	addrs map[string][]time.Time
	// backoffs holds the failures of each account ("u:" name) and known
	// device ("d:" ID).
	backoffs map[string]*backoff
}

// backoff is the failure count of an account or device and when the last
// failure was.
type backoff struct {
	n    int
	last time.Time
}

func newLoginLimits() *loginLimits {
	key := make([]byte, 32)
	rand.Read(key)
	return &loginLimits{
		addrWindow: 15 * time.Minute, perAddr: 20,
		free: 5, baseDelay: 30 * time.Second, maxDelay: 15 * time.Minute, forget: time.Hour,
		deviceTTL: 30 * 24 * time.Hour, key: key,
		addrs: make(map[string][]time.Time), backoffs: make(map[string]*backoff),
	}
}

// maxKeys bounds each map under a spray of names and addresses; past it,
// expired entries are dropped before new ones are added.
const maxKeys = 100000

// recentAddr drops addr's failures older than addrWindow and returns the
// rest.
func (l *loginLimits) recentAddr(addr string, now time.Time) []time.Time {
	ts := l.addrs[addr]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.addrWindow {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.addrs, addr)
	} else {
		l.addrs[addr] = ts
	}
	return ts
}

// current returns key's backoff, forgetting it after a quiet period.
func (l *loginLimits) current(key string, now time.Time) *backoff {
	b := l.backoffs[key]
	if b != nil && now.Sub(b.last) >= l.forget {
		delete(l.backoffs, key)
		b = nil
	}
	return b
}

// delay is how long after its last failure an account or device with n
// failures must wait: nothing below free, then baseDelay doubling up to
// maxDelay.
func (l *loginLimits) delay(n int) time.Duration {
	if n < l.free {
		return 0
	}
	d := l.baseDelay
	for i := l.free; i < n && d < l.maxDelay; i++ {
		d *= 2
	}
	return min(d, l.maxDelay)
}

// loginAttempt is a login that begin let through; done settles it.
type loginAttempt struct {
	l       *loginLimits
	backoff string
	addr    string
	at      time.Time
}

// begin decides whether a login for account from addr may be tried now,
// and if not, how long until it may. device is the ID of a valid device
// cookie for account, or "". An allowed attempt counts as a failure until
// its done says otherwise.
func (l *loginLimits) begin(account, addr, device string, now time.Time) (loginAttempt, bool, time.Duration) {
	a := loginAttempt{l: l, at: now}
	switch {
	case device != "":
		a.backoff = "d:" + device
	case store.ValidUserName(account):
		a.backoff, a.addr = "u:"+account, addr
	default:
		// No account can have this name: only the address is at stake.
		a.addr = addr
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	if a.backoff != "" {
		if b := l.current(a.backoff, now); b != nil {
			wait = max(wait, b.last.Add(l.delay(b.n)).Sub(now))
		}
	}
	if a.addr != "" {
		if ts := l.recentAddr(a.addr, now); len(ts) >= l.perAddr {
			wait = max(wait, l.addrWindow-now.Sub(ts[0]))
		}
	}
	if wait > 0 {
		return loginAttempt{}, false, wait
	}
	if a.backoff != "" {
		if len(l.backoffs) >= maxKeys {
			for k := range l.backoffs {
				l.current(k, now)
			}
		}
		b := l.backoffs[a.backoff]
		if b == nil {
			b = &backoff{}
			l.backoffs[a.backoff] = b
		}
		b.n++
		b.last = now
	}
	if a.addr != "" {
		if len(l.addrs) >= maxKeys {
			for k := range l.addrs {
				l.recentAddr(k, now)
			}
		}
		l.addrs[a.addr] = append(l.addrs[a.addr], now)
	}
	return a, true, 0
}

// done settles the attempt: a failed login stays counted; a successful
// one, or one that failed for a reason other than the password, does not.
// A success does not forgive the account's other failures: they may be a
// guesser's, whose backoff must not restart because the real user got in.
func (a loginAttempt) done(failed bool) {
	if failed || a.l == nil {
		return
	}
	l := a.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.backoffs[a.backoff]; b != nil {
		if b.n--; b.n <= 0 {
			delete(l.backoffs, a.backoff)
		}
	}
	ts := l.addrs[a.addr]
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].Equal(a.at) {
			ts = append(ts[:i:i], ts[i+1:]...)
			break
		}
	}
	if len(ts) == 0 {
		delete(l.addrs, a.addr)
	} else {
		l.addrs[a.addr] = ts
	}
}

// deviceToken returns the value of the device cookie a browser gets when
// it logs in to account: a random device ID, the account and an expiry,
// signed.
func (l *loginLimits) deviceToken(account string, now time.Time) string {
	id := make([]byte, 16)
	rand.Read(id)
	payload := hex.EncodeToString(id) + "\x00" + strconv.FormatInt(now.Add(l.deviceTTL).Unix(), 10) + "\x00" + account
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(l.mac(payload))
}

func (l *loginLimits) mac(payload string) []byte {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// device returns the device ID of token if it is a valid, unexpired device
// cookie for account.
func (l *loginLimits) device(token, account string, now time.Time) (string, bool) {
	p, sig, ok := bytes.Cut([]byte(token), []byte("."))
	if !ok {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(string(p))
	if err != nil {
		return "", false
	}
	got, err := base64.RawURLEncoding.DecodeString(string(sig))
	if err != nil || !hmac.Equal(got, l.mac(string(payload))) {
		return "", false
	}
	parts := bytes.SplitN(payload, []byte("\x00"), 3)
	if len(parts) != 3 || string(parts[2]) != account {
		return "", false
	}
	exp, err := strconv.ParseInt(string(parts[1]), 10, 64)
	if err != nil || !now.Before(time.Unix(exp, 0)) {
		return "", false
	}
	return string(parts[0]), true
}
