package web

import (
	"io/fs"
	"net/http"
)

// imageType reports whether ct is an image format served; anything else
// (SVG above all, which can carry script) is refused.
func imageType(ct string) bool {
	switch ct {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}

func serveImage(w http.ResponseWriter, r *http.Request, data []byte) {
	ct := http.DetectContentType(data)
	if !imageType(ct) {
		http.Error(w, "not an image", http.StatusUnsupportedMediaType)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	w.Write(data)
}

// handleImage serves a listing image from patrol's own store by sha256:
// the UI never hot-links a marketplace.
func handleImage(rs *responder, images ImageStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sha := r.PathValue("sha")
		if !isHexSHA(sha) {
			rs.fail(w, r, badRequest("not a sha256"))
			return
		}
		if images == nil {
			http.NotFound(w, r)
			return
		}
		data, err := images.Image(r.Context(), sha)
		if err != nil {
			rs.fail(w, r, err)
			return
		}
		serveImage(w, r, data)
	})
}

// handleReference serves a brand's reference image by sha256.
func handleReference(refs map[string]Reference) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ref, ok := refs[r.PathValue("sha")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		serveImage(w, r, ref.Data)
	})
}

// handleStatic serves the embedded stylesheet and script.
func handleStatic() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsrv := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}
