package records

// KindMatch is gb-find's record: one per manifest entry that matched.
const KindMatch = "match"

// Match is the "match" record: a file a bag holds, with what a restore
// needs to get it back (docs/records.md, "Find records"). gb-find writes
// it; gb-restore plan reads it.
type Match struct {
	Kind         string `json:"kind"`
	Path         string `json:"path"`
	PathB64      string `json:"path_b64,omitempty"`
	Type         string `json:"type"`
	Size         int64  `json:"size"`
	Mtime        string `json:"mtime"`
	SHA256       string `json:"sha256,omitempty"`
	Link         string `json:"link,omitempty"`
	LinkB64      string `json:"link_b64,omitempty"`
	Atom         string `json:"atom"`
	AtomB64      string `json:"atom_b64,omitempty"`
	Source       string `json:"source"`
	Bag          string `json:"bag"`
	Key          string `json:"key"`
	Encrypted    bool   `json:"encrypted,omitempty"`
	Manifest     string `json:"manifest"`
	StorageClass string `json:"storage_class,omitempty"`
	Current      bool   `json:"current"`
	Reason       string `json:"reason,omitempty"`
}

func init() {
	Register(KindMatch, Match{})
}
