package notice

import (
	"bytes"
	"net/http"
	"strings"
)

// Removal decides from a re-fetch whether a noticed listing was taken down:
// HTTP 404 or 410, the marketplace's "no longer available" marker in the
// page, or the page no longer matching the brand (stillMatches false, as
// the matcher judged the re-fetched page). It returns why, for the notice's
// record. Any other status (a 5xx, a block) is not evidence of removal, and
// the listing counts as still up only when the page was fetched fine.
func Removal(status int, body []byte, marker string, stillMatches bool) (removed bool, detail string) {
	switch {
	case status == http.StatusNotFound || status == http.StatusGone:
		return true, "http " + http.StatusText(status)
	case status >= 200 && status < 300:
		if m := strings.TrimSpace(marker); m != "" && bytes.Contains(bytes.ToLower(body), bytes.ToLower([]byte(m))) {
			return true, "page shows " + m
		}
		if !stillMatches {
			return true, "listing no longer matches the brand"
		}
		return false, "listing still up"
	}
	return false, "inconclusive: http " + http.StatusText(status)
}
