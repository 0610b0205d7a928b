package notice

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteDir writes each notice to its own file in dir (NOTICE-ID.txt, .csv
// or .json), creating dir if needed, and returns the paths written. A file
// per notice is what analysts upload or paste, one at a time.
func WriteDir(dir string, notices []Notice) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create notice dir: %w", err)
	}
	paths := make([]string, 0, len(notices))
	for _, n := range notices {
		p := filepath.Join(dir, n.ID+"."+n.Format.Ext())
		if err := os.WriteFile(p, n.Body, 0o644); err != nil {
			return paths, fmt.Errorf("write notice %s: %w", n.ID, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// WriteAll writes the notices to w as one document of their format: text
// notices separated by a rule, CSV with a single header row, JSON as an
// array. It is the stdout form of `patrol notices draft`.
func WriteAll(w io.Writer, notices []Notice) error {
	if len(notices) == 0 {
		return nil
	}
	var buf bytes.Buffer
	switch notices[0].Format {
	case CSV:
		for i, n := range notices {
			body := n.Body
			if i > 0 {
				if j := bytes.IndexByte(body, '\n'); j >= 0 {
					body = body[j+1:]
				}
			}
			buf.Write(body)
		}
	case JSON:
		buf.WriteString("[\n")
		for i, n := range notices {
			if i > 0 {
				buf.WriteString(",\n")
			}
			buf.Write(bytes.TrimRight(n.Body, "\n"))
		}
		buf.WriteString("\n]\n")
	default:
		for i, n := range notices {
			if i > 0 {
				buf.WriteString("\n" + separator + "\n\n")
			}
			buf.Write(n.Body)
		}
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write notices: %w", err)
	}
	return nil
}

// separator divides text notices written together.
const separator = "========================================================================"
