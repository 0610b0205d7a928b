package notice

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Platform names a notice procedure: where the notice is filed and which
// fields and rules it must follow.
type Platform string

// The platforms patrol drafts for. DMCA and DSA are legal procedures that
// any service provider in their scope must accept; the others are the
// marketplaces' own programmes.
const (
	DMCA     Platform = "dmca"
	Alibaba  Platform = "alibaba"
	EbayVeRO Platform = "ebay-vero"
	Amazon   Platform = "amazon"
	DSA      Platform = "dsa"
)

// Platforms returns every platform Draft supports, in a stable order for
// help texts and reports.
func Platforms() []Platform {
	return []Platform{DMCA, Alibaba, EbayVeRO, Amazon, DSA}
}

// ParsePlatform returns the platform named s, as given to --platform.
func ParsePlatform(s string) (Platform, error) {
	for _, p := range Platforms() {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown platform %q (want one of dmca, alibaba, ebay-vero, amazon, dsa)", s)
}

// Format is how a drafted notice is rendered.
type Format string

// Text is for a person to read and paste into a web form, CSV for the
// platforms' bulk-upload sheets, JSON for programs.
const (
	Text Format = "text"
	CSV  Format = "csv"
	JSON Format = "json"
)

// ParseFormat returns the format named s, as given to --format.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case Text, CSV, JSON:
		return Format(s), nil
	}
	return "", fmt.Errorf("unknown format %q (want text, csv or json)", s)
}

// Ext returns the file extension for notices in format f.
func (f Format) Ext() string {
	if f == Text {
		return "txt"
	}
	return string(f)
}

// rule is what a platform demands of a notice. The rules are enforced when
// drafting, so that an analyst cannot file a notice the platform would
// bounce.
type rule struct {
	title string
	// maxListings bounds the listings in one notice (0: no bound); larger
	// groups are split into parts.
	maxListings int
	// perSeller makes one notice per seller.
	perSeller bool
	// oneIPType makes one notice per right asserted (trademark, copyright).
	oneIPType bool
	// testBuys says the platform accepts test-buy records as evidence.
	testBuys bool
	// needsItemNumber refuses listings whose URL carries no item number.
	needsItemNumber bool
	// needsAccount requires the rights holder's account on the platform.
	needsAccount bool
	// goodFaith and accuracy are the statements the notice must carry.
	goodFaith string
	accuracy  string
}

// Statements shared by the notices; the DMCA and DSA wordings follow the
// statute and regulation they implement.
const (
	dmcaGoodFaith = "I have a good faith belief that use of the material in the manner complained of is not authorized by the copyright or trademark owner, its agent, or the law."
	dmcaAccuracy  = "The information in this notification is accurate, and under penalty of perjury, I am authorized to act on behalf of the owner of an exclusive right that is allegedly infringed."
	dsaGoodFaith  = "I confirm my bona fide belief that the information and allegations contained in this notice are accurate and complete."
)

var rules = map[Platform]rule{
	DMCA: {
		title:     "DMCA notice of claimed infringement (17 U.S.C. 512(c)(3))",
		goodFaith: dmcaGoodFaith,
		accuracy:  dmcaAccuracy,
	},
	Alibaba: {
		title:        "Alibaba IP Protection Platform complaint",
		maxListings:  300,
		perSeller:    true,
		oneIPType:    true,
		testBuys:     true,
		needsAccount: true,
		goodFaith:    dmcaGoodFaith,
		accuracy:     "The information in this complaint is accurate and I am the rights holder or authorized to act on the rights holder's behalf.",
	},
	EbayVeRO: {
		title:           "eBay VeRO Notice of Claimed Infringement",
		needsItemNumber: true,
		needsAccount:    true,
		goodFaith:       "I have a good faith belief that the use of the material complained of is not authorized by the intellectual property rights owner, its agent, or the law.",
		accuracy:        "The information in this notice is accurate and, under penalty of perjury, I am the owner or the agent of the owner of the rights described above.",
	},
	Amazon: {
		title:        "Amazon report of infringement",
		maxListings:  50,
		oneIPType:    true,
		testBuys:     true,
		needsAccount: true,
		goodFaith:    dmcaGoodFaith,
		accuracy:     "The information in this report is accurate and, under penalty of perjury, I am the rights owner or authorized to act on the rights owner's behalf.",
	},
	DSA: {
		title:     "Notice of illegal content under Article 16 of Regulation (EU) 2022/2065 (Digital Services Act)",
		goodFaith: dsaGoodFaith,
	},
}

// Infringement kinds a listing can be claimed for, and the rights they
// rest on.
const (
	infCounterfeit = "counterfeit"
	infImage       = "image"
	infTrademark   = "trademark"

	ipTrademark = "trademark"
	ipCopyright = "copyright"
)

// Signal names, as the matcher produces them.
const (
	sigBrandTerm       = "brand_term"
	sigBrandDisguised  = "brand_disguised"
	sigSuspiciousTerm  = "suspicious_term"
	sigPriceBelowMSRP  = "price_below_msrp"
	sigImageMatch      = "image_match"
	sigSharedPhoto     = "shared_photo"
	sigUnauthorized    = "unauthorized_seller"
	sigRepeatInfringer = "repeat_infringer"
	sigNegativeTerm    = "negative_term"
	sigAuthorized      = "authorized_seller"
)

// groundSignals are the signals that show infringement rather than mere
// resale: a listing needs one of them to be noticed.
var groundSignals = []string{sigBrandDisguised, sigSuspiciousTerm, sigImageMatch, sigSharedPhoto, sigRepeatInfringer}

// claim is what a notice asserts about one listing.
type claim struct {
	infringement string // infCounterfeit, infImage, infTrademark
	ipType       string // ipTrademark, ipCopyright
}

// classify decides the claim from the signals: a suspicious term or a
// disguised brand name says counterfeit; the brand's photos with its name or
// a low price say counterfeit too; the photos alone are an image (copyright)
// infringement; a repeat infringer using the name is a trademark claim.
func classify(has map[string]bool) claim {
	image := has[sigImageMatch] || has[sigSharedPhoto]
	switch {
	case has[sigSuspiciousTerm] || has[sigBrandDisguised]:
		return claim{infCounterfeit, ipTrademark}
	case image && (has[sigBrandTerm] || has[sigPriceBelowMSRP]):
		return claim{infCounterfeit, ipTrademark}
	case image:
		return claim{infImage, ipCopyright}
	default:
		return claim{infTrademark, ipTrademark}
	}
}

// reasonCode is an eBay VeRO reason code with its wording on the Notice of
// Claimed Infringement form. The code decides which fields are required.
type reasonCode struct {
	code string
	text string
	// needsRegistration requires a registered trademark; needsWork a
	// description of the copyrighted work.
	needsRegistration bool
	needsWork         bool
}

// veroReason maps a claim to the VeRO reason code it is filed under.
func veroReason(c claim) reasonCode {
	switch c.infringement {
	case infCounterfeit:
		return reasonCode{"3.1", "Item(s) is a counterfeit product", true, false}
	case infImage:
		return reasonCode{"2.2", "Listing(s) uses unauthorized copy of copyrighted image", false, true}
	default:
		return reasonCode{"1.1", "Listing(s) contains unlawful use of brand name or logo", true, false}
	}
}

// infringementLabel is how a claim is named on a platform's form.
func infringementLabel(p Platform, c claim) string {
	switch c.infringement {
	case infCounterfeit:
		return "counterfeit"
	case infImage:
		if p == Amazon {
			return "copyright: product image"
		}
		return "image infringement"
	default:
		return "trademark infringement"
	}
}

var (
	ebayItemPath = regexp.MustCompile(`/itm/(?:[^/]+/)?(\d{9,15})(?:[/?]|$)`)
	asinPath     = regexp.MustCompile(`/(?:dp|gp/product|gp/aw/d|product)/([A-Z0-9]{10})(?:[/?]|$)`)
)

// ebayItemNumber returns the item number in an eBay listing URL, or "".
func ebayItemNumber(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if m := ebayItemPath.FindStringSubmatch(u.Path); m != nil {
		return m[1]
	}
	for _, k := range []string{"item", "itemid", "itemId"} {
		if v := u.Query().Get(k); v != "" && isDigits(v) {
			return v
		}
	}
	return ""
}

// asin returns the ASIN in an Amazon product URL, or "".
func asin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if m := asinPath.FindStringSubmatch(u.Path); m != nil {
		return m[1]
	}
	return ""
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// shopSegments are first path segments of seller storefronts: platforms
// want the listing's own URL, a shop page gets the notice bounced.
var shopSegments = map[string]bool{
	"shop": true, "shops": true, "store": true, "stores": true, "seller": true,
	"sellers": true, "str": true, "usr": true, "people": true, "profile": true,
}

// isShopURL reports whether raw points at a seller's shop or profile rather
// than at one listing.
func isShopURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) == 0 || segs[0] == "" {
		return u.RawQuery == ""
	}
	if !shopSegments[strings.ToLower(segs[0])] {
		return false
	}
	for _, s := range segs[1:] {
		switch strings.ToLower(s) {
		case "listing", "item", "items", "itm", "product", "products", "dp", "offer":
			return false
		}
	}
	return true
}
