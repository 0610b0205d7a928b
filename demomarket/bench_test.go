package demomarket

import "testing"

func BenchmarkNew(b *testing.B) {
	for i := 0; i < b.N; i++ {
		New(Options{Seed: int64(i)})
	}
}

func BenchmarkRenderSnapshot(b *testing.B) {
	bd := brandDefs()[0]
	p := snapshotPhoto(newRNG(1, "x"), productShapes(bd, bd.products[0], true))
	for i := 0; i < b.N; i++ {
		p.render(p.w, p.h)
	}
}

func BenchmarkImageBytes(b *testing.B) {
	m := New(Options{Seed: 1})
	names := m.ImageNames()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := m.images[names[i%len(names)]]
		if e.pic != nil {
			m.renderImage("x", e)
		}
	}
}
