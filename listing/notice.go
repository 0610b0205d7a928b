package listing

import "time"

// NoticeState is where a takedown notice stands between drafting and the
// platform's final answer. The accuracy record that enforcement programmes
// judge a rights holder by is computed from these states.
type NoticeState string

// The states a notice moves through. A notice is drafted, then sent (filed
// with the platform); verification finds its listings removed or still up.
// A platform may reject it, the seller may answer with a counter-notice, or
// the rights holder may retract it: all three count against the record.
const (
	NoticeDrafted       NoticeState = "drafted"
	NoticeSent          NoticeState = "sent"
	NoticeRemoved       NoticeState = "removed"
	NoticeStillUp       NoticeState = "still_up"
	NoticeRejected      NoticeState = "rejected"
	NoticeCounterNotice NoticeState = "counter_notice"
	NoticeRetracted     NoticeState = "retracted"
)

// Valid reports whether s is one of the known notice states.
func (s NoticeState) Valid() bool {
	switch s {
	case NoticeDrafted, NoticeSent, NoticeRemoved, NoticeStillUp, NoticeRejected, NoticeCounterNotice, NoticeRetracted:
		return true
	}
	return false
}

// Filed reports whether a notice in state s has been sent to the platform,
// whatever happened next.
func (s NoticeState) Filed() bool {
	return s != NoticeDrafted && s != ""
}

// Adverse reports whether s counts against the rights holder's accuracy
// record: the platform refused the notice, the seller contested it, or the
// rights holder withdrew it.
func (s NoticeState) Adverse() bool {
	return s == NoticeRejected || s == NoticeCounterNotice || s == NoticeRetracted
}

// OutcomeState is what verification found for one listing of a sent notice.
type OutcomeState string

// Listing outcomes. A listing is pending until verified; a listing that a
// counter-notice restored is reinstated and no longer counts as taken down.
// A listing verified removed and later found live again is relisted: the
// platform acted, but the takedown did not last, so it no longer counts as
// taken down either (nor against the notice's accuracy, as a reinstatement
// does).
const (
	OutcomePending    OutcomeState = "pending"
	OutcomeRemoved    OutcomeState = "removed"
	OutcomeStillUp    OutcomeState = "still_up"
	OutcomeReinstated OutcomeState = "reinstated"
	OutcomeRelisted   OutcomeState = "relisted"
)

// NoticeListing is one listing cited by a notice, with what the notice
// claimed about it and what became of it. The signal names are kept so that
// rejections and counter-notices can be counted against the signals that
// produced them.
type NoticeListing struct {
	ID             ID       `json:"id"`
	URL            string   `json:"url"`
	Seller         string   `json:"seller,omitempty"`
	Signals        []string `json:"signals,omitempty"`
	SnapshotSHA256 string   `json:"snapshot_sha256,omitempty"`
	// Infringement is the claim made about the listing ("counterfeit",
	// "image", "trademark").
	Infringement string       `json:"infringement,omitempty"`
	Outcome      OutcomeState `json:"outcome"`
	// Detail says why verification decided the outcome (e.g. "http 404").
	Detail    string    `json:"detail,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitempty"`
	RemovedAt time.Time `json:"removed_at,omitempty"`
}

// NoticeEvent is one step in a notice's life, kept as an audit trail.
type NoticeEvent struct {
	At    time.Time   `json:"at"`
	State NoticeState `json:"state"`
	By    string      `json:"by,omitempty"`
	Note  string      `json:"note,omitempty"`
}

// Notice is a takedown notice as persisted: what was drafted for which
// platform and brand, which listings it cites, and its lifecycle.
type Notice struct {
	ID       string `json:"id"`
	Platform string `json:"platform"`
	Brand    string `json:"brand"`
	// Marketplace is where the cited listings are; a notice never mixes
	// marketplaces.
	Marketplace string `json:"marketplace,omitempty"`
	// Seller is set when the platform wants one notice per seller.
	Seller string `json:"seller,omitempty"`
	// IPType is the right asserted ("trademark", "copyright").
	IPType   string          `json:"ip_type,omitempty"`
	Listings []NoticeListing `json:"listings"`
	State    NoticeState     `json:"state"`
	// Format and Body are the notice as rendered when drafted, kept as the
	// record of what was filed.
	Format     string        `json:"format,omitempty"`
	Body       string        `json:"body,omitempty"`
	DraftedAt  time.Time     `json:"drafted_at"`
	SentAt     time.Time     `json:"sent_at,omitempty"`
	VerifiedAt time.Time     `json:"verified_at,omitempty"`
	ClosedAt   time.Time     `json:"closed_at,omitempty"`
	Events     []NoticeEvent `json:"events,omitempty"`
}

// ListingIDs returns the IDs of the listings the notice cites, in order.
func (n *Notice) ListingIDs() []ID {
	ids := make([]ID, len(n.Listings))
	for i, l := range n.Listings {
		ids[i] = l.ID
	}
	return ids
}

// TestBuyOutcome is what an analyst's test purchase established.
type TestBuyOutcome string

// Test-buy outcomes. Only a counterfeit outcome is cited as evidence; a
// genuine one means the listing must not be noticed.
const (
	TestBuyPending     TestBuyOutcome = "pending"
	TestBuyCounterfeit TestBuyOutcome = "counterfeit"
	TestBuyGenuine     TestBuyOutcome = "genuine"
	TestBuyNotReceived TestBuyOutcome = "not_received"
)

// Valid reports whether o is one of the known test-buy outcomes.
func (o TestBuyOutcome) Valid() bool {
	switch o {
	case TestBuyPending, TestBuyCounterfeit, TestBuyGenuine, TestBuyNotReceived:
		return true
	}
	return false
}

// TestBuy records a purchase an analyst made from a listing to examine the
// item; platforms that accept it (Amazon's test-buy order ID, Alibaba's
// evidence) get it in the notice.
type TestBuy struct {
	ID        string         `json:"id"`
	ListingID ID             `json:"listing_id"`
	OrderRef  string         `json:"order_ref"`
	Date      time.Time      `json:"date"`
	Outcome   TestBuyOutcome `json:"outcome"`
	// Photos are references (paths or URLs) to photos of the item received.
	Photos     []string  `json:"photos,omitempty"`
	Note       string    `json:"note,omitempty"`
	Analyst    string    `json:"analyst,omitempty"`
	RecordedAt time.Time `json:"recorded_at"`
}
