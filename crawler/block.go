package crawler

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/PuerkitoBio/goquery"
)

// blockTitles are page titles that only interstitial robot checks use.
var blockTitles = []string{
	"robot check", "captcha", "are you a robot", "are you a human", "attention required",
	"just a moment", "access denied", "pardon our interruption", "security check",
	"human verification", "verify you are human", "bot check", "please verify",
	"验证", "安全验证",
}

// blockPhrases are visible sentences of robot-check pages.
var blockPhrases = []string{
	"enter the characters you see below",
	"type the characters you see in this image",
	"make sure you're not a robot", "make sure you are not a robot",
	"verify you are a human", "verify that you are a human", "confirm you are a human",
	"press & hold to confirm", "press and hold to confirm",
	"unusual traffic from your computer network",
	"checking your browser before accessing",
	"please complete the security check",
}

// isBlockPage reports whether doc is a CAPTCHA or robot-check page rather
// than the page asked for. Ordinary product pages mention "captcha" in
// scripts and login forms, so a mention alone never counts: a block needs
// a robot-check title, a robot-check sentence in the visible text, or a
// CAPTCHA form or widget on a page with little else on it.
func isBlockPage(doc *goquery.Document) bool {
	title := strings.ToLower(cleanText(headTitle(doc)))
	for _, t := range blockTitles {
		if title != "" && strings.Contains(title, t) && len(title) < 80 {
			return true
		}
	}
	// Visible text only (scripts and styles are where real pages mention
	// captchas), and only of small pages: robot checks are short.
	text, short := visibleText(doc, 20000)
	if !short {
		return false
	}
	for _, p := range blockPhrases {
		if strings.Contains(text, p) {
			return true
		}
	}
	if len(text) > 3000 {
		return false
	}
	widget := doc.Find(`form[action*="aptcha"],.g-recaptcha,.h-captcha,#px-captcha,iframe[src*="recaptcha"],iframe[src*="hcaptcha"],iframe[src*="captcha-delivery"],#cf-challenge-running,#challenge-form,img[src*="captcha"],input[name*="captcha"],input[id*="captcha"]`)
	return widget.Length() > 0
}

// visibleText returns the lower-cased, space-collapsed text outside
// scripts and styles, and false (with no text) when it exceeds limit
// bytes (of text trimmed node by node). One iterative walk both measures
// and builds the text, into one buffer, lower-casing ASCII in place:
// product pages under the limit used to be walked twice, recursively, and
// their words allocated one by one, a tenth of the crawler's own cost.
func visibleText(doc *goquery.Document, limit int) (string, bool) {
	b := make([]byte, 0, 4096)
	size := 0
	for _, root := range doc.Nodes {
		n := root
		for {
			descend := true
			switch n.Type {
			case html.ElementNode:
				switch n.DataAtom {
				case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Head:
					descend = false
				}
			case html.TextNode:
				var trimmed int
				b, trimmed = appendLowerFields(b, n.Data)
				if size += trimmed; size > limit {
					return "", false
				}
			}
			if descend && n.FirstChild != nil {
				n = n.FirstChild
				continue
			}
			for n != root && n.NextSibling == nil {
				n = n.Parent
			}
			if n == root {
				break
			}
			n = n.NextSibling
		}
	}
	return string(b), true
}

// appendLowerFields appends the white-space separated fields of s to b,
// lower-cased, each followed by one space, as
// strings.ToLower(f)+" " for every f in strings.Fields(s) would; trimmed
// is len(strings.TrimSpace(s)).
func appendLowerFields(b []byte, s string) (out []byte, trimmed int) {
	start, first, last := -1, -1, 0
	for i := 0; i < len(s); {
		c := s[i]
		space, size := asciiSpace[c] != 0, 1
		if c >= utf8.RuneSelf {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			space = unicode.IsSpace(r)
		}
		if !space {
			if start < 0 {
				start = i
				if first < 0 {
					first = i
				}
			}
		} else if start >= 0 {
			b = append(appendLower(b, s[start:i]), ' ')
			start, last = -1, i
		}
		i += size
	}
	if start >= 0 {
		b = append(appendLower(b, s[start:]), ' ')
		last = len(s)
	}
	if first < 0 {
		return b, 0
	}
	return b, last - first
}

// asciiSpace marks the ASCII bytes unicode.IsSpace accepts.
var asciiSpace = [256]uint8{'\t': 1, '\n': 1, '\v': 1, '\f': 1, '\r': 1, ' ': 1}

// appendLower appends f lower-cased to b, without allocating when f is
// ASCII.
func appendLower(b []byte, f string) []byte {
	for i := 0; i < len(f); i++ {
		if f[i] >= utf8.RuneSelf {
			return append(b, strings.ToLower(f)...)
		}
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// headTitle returns the text of the <title> in <head> without a selector
// walk over the whole document.
func headTitle(doc *goquery.Document) string {
	var find func(n *html.Node, depth int) *html.Node
	find = func(n *html.Node, depth int) *html.Node {
		if n.Type == html.ElementNode && n.DataAtom == atom.Title {
			return n
		}
		if depth > 3 {
			return nil
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if n.Type == html.ElementNode && n.DataAtom == atom.Body {
				return nil
			}
			if t := find(c, depth+1); t != nil {
				return t
			}
		}
		return nil
	}
	for _, n := range doc.Nodes {
		if t := find(n, 0); t != nil {
			var b strings.Builder
			for c := t.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.TextNode {
					b.WriteString(c.Data)
				}
			}
			return b.String()
		}
	}
	return ""
}
