package crawler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// robotsCase is one expectation of Google's robots_test.cc.
type robotsCase struct {
	RobotsTxt      string `json:"robots_txt"`
	UserAgent      string `json:"user_agent"`
	URL            string `json:"url"`
	Allowed        bool   `json:"allowed"`
	Note           string `json:"note"`
	Test           string `json:"test"`
	GoogleSpecific bool   `json:"google_specific"`
}

func readJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// oneAgentAllowed is Google's OneAgentAllowedByRobots on our matcher: the
// same code path the crawler uses (parseRobots, robotsPath, allowed).
func oneAgentAllowed(robotsTxt, agent, rawURL string) bool {
	return parseRobots([]byte(robotsTxt)).allowed(agent, robotsPath(rawURL))
}

// TestRobotsGoogleCases runs Google's 145 robots.txt cases against the
// matcher the crawler uses and prints the pass count.
func TestRobotsGoogleCases(t *testing.T) {
	var cases []robotsCase
	readJSON(t, "robotstxt/cases.json", &cases)
	var rfcPass, rfcTotal, gPass, gTotal int
	for i, tc := range cases {
		got := oneAgentAllowed(tc.RobotsTxt, tc.UserAgent, tc.URL)
		ok := got == tc.Allowed
		if tc.GoogleSpecific {
			gTotal++
			if ok {
				gPass++
			}
		} else {
			rfcTotal++
			if ok {
				rfcPass++
			}
		}
		if !ok {
			t.Errorf("case %d %s: allowed(%q, %q) = %v, want %v\nrobots.txt:\n%.400s", i, tc.Note, tc.UserAgent, tc.URL, got, tc.Allowed, tc.RobotsTxt)
		}
	}
	t.Logf("robots.txt cases: RFC 9309 %d/%d, Google-specific %d/%d, total %d/%d", rfcPass, rfcTotal, gPass, gTotal, rfcPass+gPass, rfcTotal+gTotal)
}

func TestRobotsPathParamsQuery(t *testing.T) {
	var cases []struct {
		URL  string `json:"url"`
		Want string `json:"path_params_query"`
	}
	readJSON(t, "robotstxt/path_params_query.json", &cases)
	for _, tc := range cases {
		if got := robotsPath(tc.URL); got != tc.Want {
			t.Errorf("robotsPath(%q) = %q, want %q", tc.URL, got, tc.Want)
		}
	}
}

func TestRobotsEscapePattern(t *testing.T) {
	var cases []struct {
		Pattern string `json:"pattern"`
		Escaped string `json:"escaped"`
	}
	readJSON(t, "robotstxt/escape_pattern.json", &cases)
	for _, tc := range cases {
		if got := escapePattern(tc.Pattern); got != tc.Escaped {
			t.Errorf("escapePattern(%q) = %q, want %q", tc.Pattern, got, tc.Escaped)
		}
	}
}

func TestRobotsValidUserAgent(t *testing.T) {
	var cases []struct {
		UserAgent string `json:"user_agent"`
		Valid     bool   `json:"valid"`
	}
	readJSON(t, "robotstxt/user_agent_validity.json", &cases)
	for _, tc := range cases {
		if got := validAgent(tc.UserAgent); got != tc.Valid {
			t.Errorf("validAgent(%q) = %v, want %v", tc.UserAgent, got, tc.Valid)
		}
	}
}

func TestRobotsCrawlDelay(t *testing.T) {
	tests := []struct {
		name, robots string
		want         time.Duration
	}{
		{"none", "User-agent: *\nDisallow: /x\n", 0},
		{"global", "User-agent: *\nCrawl-delay: 2\n", 2 * time.Second},
		{"fraction with unit", "User-agent: *\nCrawl-delay: 1.5s\nDisallow: /private\n", 1500 * time.Millisecond},
		{"specific beats global", "User-agent: *\nCrawl-delay: 9\n\nUser-agent: patrol\nCrawl-delay: 3\n", 3 * time.Second},
		{"other agent", "User-agent: googlebot\nCrawl-delay: 9\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parseRobots([]byte(tt.robots))
			if got := r.crawlDelay(DefaultUserAgent); got != tt.want {
				t.Errorf("crawlDelay = %v, want %v", got, tt.want)
			}
		})
	}
	// An unparsable line does not drop the file (temoto/robotstxt's trap).
	r := parseRobots([]byte("User-agent: *\nCrawl-delay: 1.5 seconds please\nDisallow: /private\n"))
	if r.allowed(productToken(DefaultUserAgent), "/private/x") {
		t.Errorf("Disallow after an unparsable line was dropped")
	}
}

// TestRobotsFetchStatuses checks the RFC 9309 answers to a missing or
// failing robots.txt, and that the crawler enforces them, redirects
// included.
func TestRobotsFetchStatuses(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		path    string
		wantErr error
	}{
		{"404 allows all", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, "/item/1", nil},
		{"500 disallows all", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) }, "/item/1", ErrDisallowed},
		{"disallowed path", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
		}, "/private/1", ErrDisallowed},
		{"our agent's group", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "User-agent: *\nDisallow:\n\nUser-agent: patrol\nDisallow: /item\n")
		}, "/item/1", ErrDisallowed},
		{"redirect to a disallowed path", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
		}, "/redirect-private", ErrDisallowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sh := &shop{pages: 1}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/robots.txt":
					tt.handler(w, r)
				case "/redirect-private":
					http.Redirect(w, r, "/private/1", http.StatusFound)
				default:
					sh.ServeHTTP(w, r)
				}
			}))
			defer srv.Close()
			c := newTestCrawler(t, testOptions(srv.URL))
			_, err := c.Fetch(context.Background(), srv.URL+tt.path)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Fetch(%s) = %v, want %v", tt.path, err, tt.wantErr)
			}
			if strings.HasPrefix(tt.path, "/private") && sh.count("/private") > 0 {
				t.Errorf("disallowed path was requested")
			}
		})
	}
}

// TestRobotsCachedOnce checks that concurrent workers fetch robots.txt once.
func TestRobotsCachedOnce(t *testing.T) {
	var robotsHits atomic.Int32
	sh := &shop{pages: 1}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			robotsHits.Add(1)
			time.Sleep(20 * time.Millisecond)
			fmt.Fprint(w, "User-agent: *\nAllow: /\n")
			return
		}
		sh.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := newTestCrawler(t, testOptions(srv.URL))
	done := make(chan error)
	for i := 0; i < 8; i++ {
		go func(i int) {
			_, err := c.Fetch(context.Background(), fmt.Sprintf("%s/item/%d", srv.URL, i))
			done <- err
		}(i)
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Errorf("Fetch: %v", err)
		}
	}
	if n := robotsHits.Load(); n != 1 {
		t.Errorf("robots.txt fetched %d times, want 1", n)
	}
}

func FuzzRobots(f *testing.F) {
	f.Add("User-agent: *\nDisallow: /a*b$\nAllow: /a\n", "/ab")
	f.Add("user-agent FooBot\ndisallow /\n", "/x?y")
	f.Add("\xEF\xBB\xBFUser-agent: *\r\nDisallow: /%e2%82%ac\r", "/€")
	f.Fuzz(func(t *testing.T, robots, path string) {
		r := parseRobots([]byte(robots))
		r.allowed("FooBot", robotsPath(path))
		r.crawlDelay("FooBot")
	})
}
