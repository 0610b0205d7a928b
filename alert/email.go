package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// redactURL keeps a webhook URL's scheme and host: the path of a Slack
// hook is its secret.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "webhook"
	}
	return u.Scheme + "://" + u.Host
}

// emailMessage renders p as a plain-text RFC 5322 message.
func (n *Notifier) emailMessage(e Email, p Payload) []byte {
	var body bytes.Buffer
	fmt.Fprintf(&body, "%s.\r\n\r\n", p.Text)
	if !p.Started.IsZero() {
		fmt.Fprintf(&body, "Sweep started %s", p.Started.UTC().Format(time.RFC3339))
		if len(p.Marketplaces) > 0 {
			fmt.Fprintf(&body, " over %s", strings.Join(p.Marketplaces, ", "))
		}
		body.WriteString(".\r\n\r\n")
	}
	for _, s := range p.Suspects {
		fmt.Fprintf(&body, "- %s\r\n  seller %s on %s, %.2f %s, brand %s, score %.2f\r\n  %s\r\n", oneLine(s.Title), oneLine(s.Seller), s.Marketplace, s.Price, s.Currency, s.Brand, s.Score, s.URL)
		if s.Link != "" {
			fmt.Fprintf(&body, "  review: %s\r\n", s.Link)
		}
		for _, sig := range s.Signals {
			fmt.Fprintf(&body, "    %s (%+.2f): %s\r\n", sig.Name, sig.Weight, oneLine(sig.Detail))
		}
	}
	if more := p.NewSuspects - len(p.Suspects); more > 0 {
		fmt.Fprintf(&body, "\r\n...and %d more.\r\n", more)
	}
	var m bytes.Buffer
	fmt.Fprintf(&m, "From: %s\r\n", oneLine(e.From))
	fmt.Fprintf(&m, "To: %s\r\n", oneLine(strings.Join(e.To, ", ")))
	fmt.Fprintf(&m, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", p.Text))
	fmt.Fprintf(&m, "Date: %s\r\n", n.opts.Now().Format(time.RFC1123Z))
	fmt.Fprintf(&m, "Message-ID: <patrol-%s@patrol>\r\n", strings.Map(msgIDRune, p.SweepID))
	m.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	m.Write(body.Bytes())
	return m.Bytes()
}

func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

func msgIDRune(r rune) rune {
	if r < 0x21 || r > 0x7e || r == '<' || r == '>' || r == '@' {
		return '_'
	}
	return r
}

// sendMail delivers msg over SMTP: implicit TLS on port 465, else STARTTLS
// when the server offers it; PLAIN auth when a username is set.
func sendMail(ctx context.Context, e Email, msg []byte) error {
	addr := net.JoinHostPort(e.Host, strconv.Itoa(e.Port))
	d := net.Dialer{Timeout: 15 * time.Second}
	var conn net.Conn
	var err error
	tlsConf := &tls.Config{ServerName: e.Host, MinVersion: tls.VersionTLS12}
	if e.Port == 465 {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tlsConf}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("smtp dial %s: %w", addr, err)
	}
	deadline := time.Now().Add(time.Minute)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, e.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && e.Port != 465 {
		if err := c.StartTLS(tlsConf); err != nil {
			return fmt.Errorf("smtp starttls: %w", err)
		}
	}
	if e.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", e.Username, e.Password, e.Host)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	if err := c.Mail(e.From); err != nil {
		return fmt.Errorf("smtp mail from: %w", err)
	}
	for _, to := range e.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("smtp rcpt %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp end data: %w", err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("smtp quit: %w", err)
	}
	return nil
}
