package records

// KindRecovered is gb-recover's record.
const KindRecovered = "recovered"

// Recovered is the "recovered" record: what gb-recover wrote.
type Recovered struct {
	Kind              string   `json:"kind"`
	Store             string   `json:"store"`
	Year              int      `json:"year"`
	Dir               string   `json:"dir"`
	Config            string   `json:"config"`
	Files             []string `json:"files"`
	Bags              int      `json:"bags"`
	Manifests         int      `json:"manifests"`
	ManifestsMissing  []string `json:"manifests_missing,omitempty"`
	EncryptedSkipped  int      `json:"encrypted_skipped,omitempty"`
	RecipientsWritten bool     `json:"recipients_written,omitempty"`
	Rebuilt           bool     `json:"rebuilt,omitempty"`
}

func init() { Register(KindRecovered, Recovered{}) }
