package matcher

// builtinSuspicious are phrases sellers of counterfeits use across
// marketplaces and languages to tell buyers what they sell without saying
// "counterfeit". Matched on folded words, so case, accents and leetspeak do
// not matter; a phrase preceded by a negation ("not a replica") does not
// count.
var builtinSuspicious = []string{
	// English
	"replica", "replicas", "1:1", "1 to 1", "one to one", "aaa", "aaa+", "aaaa",
	"mirror quality", "mirror grade", "mirror image quality",
	"super fake", "fake", "fakes", "knockoff", "knock off", "knock-off",
	"inspired by", "unbranded", "no logo", "without logo", "oem",
	"top quality copy", "high copy", "copy version", "imitation",
	"dupe", "same as original", "same as the original", "original quality",
	"factory quality", "ua quality", "best version", "counterfeit",
	"not original", "non original", "non-original", "look alike", "lookalike",
	"high quality replica", "fake brand",
	// Spanish, Portuguese, Italian, French, German, Dutch, Polish, Turkish
	"replica exacta", "réplica", "imitación", "copia", "falso", "falsificado",
	"réplica perfeita", "cópia", "imitação", "primeira linha",
	"replica perfetta", "falso d'autore", "imitazione",
	"réplique", "contrefaçon", "imitation parfaite",
	"nachbau", "fälschung", "gefälscht", "imitat",
	"namaak", "podróbka", "podrobka", "kopia", "taklit", "çakma",
	// Russian
	"реплика", "копия", "подделка", "люкс копия",
	// Chinese, Japanese, Korean (matched inside words too)
	"高仿", "复刻", "精仿", "原单", "仿品", "a货", "莆田",
	"スーパーコピー", "コピー品", "レプリカ", "偽物",
	"레플리카", "짝퉁", "이미테이션",
}

// builtinNegative are phrases that mark an accessory or a compatible part
// rather than the brand's product.
var builtinNegative = []string{
	"compatible with", "compatible for", "for use with", "works with",
	"replacement for", "designed for", "suitable for", "fits for",
	"case for", "cover for", "strap for", "band for", "charger for",
	"cable for", "screen protector", "protector for", "skin for",
	"kompatibel mit", "passend für", "compatible avec",
	"compatible con", "compatível com", "compatibile con",
	"适用于", "対応",
}

// accessoryBefore are words that, right before the brand's name, make the
// listing an accessory for the brand's product ("strap for Lumora").
var accessoryBefore = []string{"for", "fits", "fur", "pour", "para", "per", "voor", "dla"}

// negations cancel a suspicious phrase that follows within two words
// ("not a replica", "no fakes", "100% authentic not fake").
var negations = []string{
	"not", "no", "non", "never", "zero", "nicht", "kein", "keine", "pas",
	"sin", "nao", "não", "niet", "nie", "нет", "не",
}

// negationFiller may stand between a negation and the phrase it cancels.
var negationFiller = []string{"a", "an", "any", "the", "un", "une", "ein", "eine", "una", "uno"}

// notSuspiciousBefore lists, for a suspicious phrase, words that right after
// it give it an innocent meaning ("AAA batteries").
var notSuspiciousBefore = map[string][]string{
	"aaa": {"battery", "batteries", "batterie", "batterien", "cell", "cells", "size", "rated", "rating"},
}
