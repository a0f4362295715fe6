package bot

import (
	"log/slog"
	"slices"
	"time"
)

// Platform names a chat platform an adapter serves. The names are the
// adapters' own (adapters/<name>.Name); the core knows a platform only by
// what its PlatformSpec says.
type Platform string

// PlatformSpec is what a platform tells the core about itself, so that
// the core, the commands and the program ask it instead of naming
// platforms. Each adapter package returns its spec from Platform();
// cmd/xunji lists them once.
type PlatformSpec struct {
	// Name is the platform's key: in the configuration's ids maps, in
	// requests and in stored message references.
	Name Platform
	// ValidUserID reports whether id has the form of a user id on the
	// platform (roster commands check an id an administrator gives).
	// Nil accepts any non-empty id.
	ValidUserID func(id string) bool
	// NamedIDs: a person's and a group's id on the platform is their name
	// unless the configuration gives one (the console).
	NamedIDs bool
	// LocalFiles: a command may name a file on the machine the program
	// runs on instead of sending one with it (the console).
	LocalFiles bool
	// AttachHint names the variant of a "send the file with the command"
	// text for req on this platform ("" for the general one); a command
	// looks up its own text key with this suffix.
	AttachHint func(req *Request) string
	// Pace is the minimum gap between two messages to one chat (outbox).
	Pace time.Duration
	// SentTTL is how long a delivery record is kept: as long as the
	// platform lets a message be updated. Zero: the outbox's default.
	SentTTL time.Duration
	// CredentialEnv names the settings to check when the platform refuses
	// the app's credentials.
	CredentialEnv string
	// Open returns the platform's adapter when env configures it, nil
	// when it does not. Nil for a platform the program builds itself (the
	// console).
	Open func(env PlatformEnv) (Adapter, error)
}

// PlatformEnv is what an adapter is opened with.
type PlatformEnv struct {
	// Getenv reads the environment (secrets live there, never in the
	// configuration file).
	Getenv func(string) string
	Log    *slog.Logger
	// Rejected is told of each inbound call the adapter refuses and why
	// (metrics).
	Rejected func(reason string)
}

// ValidUser reports whether id has the form of a user id on s.
func (s PlatformSpec) ValidUser(id string) bool {
	if s.ValidUserID == nil {
		return id != ""
	}
	return s.ValidUserID(id)
}

// Hint returns s's attach-hint variant for req, "" when it has none.
func (s PlatformSpec) Hint(req *Request) string {
	if s.AttachHint == nil {
		return ""
	}
	return s.AttachHint(req)
}

// Platforms is the set of platforms the program knows, in the order
// they were listed.
type Platforms struct {
	specs []PlatformSpec
}

// NewPlatforms returns the set of specs; a later spec of the same name
// replaces an earlier one.
func NewPlatforms(specs ...PlatformSpec) *Platforms {
	ps := &Platforms{}
	for _, s := range specs {
		if i := slices.IndexFunc(ps.specs, func(o PlatformSpec) bool { return o.Name == s.Name }); i >= 0 {
			ps.specs[i] = s
			continue
		}
		ps.specs = append(ps.specs, s)
	}
	return ps
}

// Get returns the spec of platform p.
func (ps *Platforms) Get(p Platform) (PlatformSpec, bool) {
	if ps != nil {
		for _, s := range ps.specs {
			if s.Name == p {
				return s, true
			}
		}
	}
	return PlatformSpec{Name: p}, false
}

// All returns every spec, in order.
func (ps *Platforms) All() []PlatformSpec {
	if ps == nil {
		return nil
	}
	return slices.Clone(ps.specs)
}

// Names returns every platform's name, in order.
func (ps *Platforms) Names() []Platform {
	var out []Platform
	for _, s := range ps.All() {
		out = append(out, s.Name)
	}
	return out
}
