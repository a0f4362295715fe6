package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"
)

// People is the part of a Bot that knows the people: the configured
// roster with the administrators' stored changes, each person's
// preferences (both cached for Options.CacheTTL) and the configured
// groups.
type People struct {
	b           *Bot
	roster      *Roster
	groups      map[string]map[Platform]string
	cacheTTL    time.Duration
	rosterCache cache[*Roster]
	prefsCache  cache[map[string]Prefs]
}

// PlatformName names platform p in lang (控制台, 飞书, Slack), or its id
// when the catalog has no name for it.
func (pe *People) PlatformName(lang string, p Platform) string {
	if k := "platform." + string(p); pe.b.tr.Has(lang, k) {
		return pe.b.tr.T(lang, k)
	}
	return string(p)
}

// Roster returns the configured roster with the administrators' stored
// changes applied. It is cached for CacheTTL: a change made through
// SavePerson shows at once in this process and within CacheTTL in the
// others, and the hot path of every request saves two store round trips.
func (pe *People) Roster(ctx context.Context) (*Roster, error) {
	if r, ok := pe.rosterCache.get(pe.cacheTTL); ok && !wroteIn(ctx, CollRoster) {
		return r, nil
	}
	docs, err := pe.b.Store.List(ctx, CollRoster)
	if err != nil {
		return nil, err
	}
	over := make([]*Person, 0, len(docs))
	for _, d := range docs {
		var p Person
		if err := json.Unmarshal(d.Data, &p); err != nil {
			return nil, &Error{Code: EINTERNAL, Err: fmt.Errorf("roster %s: %w", d.ID, err)}
		}
		over = append(over, &p)
	}
	r := pe.roster.withOverrides(over)
	if !InUnit(ctx) { // a unit's view may hold its own uncommitted changes
		pe.rosterCache.set(r)
	}
	return r, nil
}

// SavePerson stores an administrator's change to a person (a new member,
// a body added or removed, Removed set).
func (pe *People) SavePerson(ctx context.Context, p *Person) error {
	doc, err := json.Marshal(p)
	if err != nil {
		return &Error{Code: EINTERNAL, Err: err}
	}
	// Forgotten once the change is committed, so that no request caches
	// the roster from before it meanwhile.
	defer AfterCommit(ctx, func(context.Context) { pe.rosterCache.clear() })
	return pe.b.Store.Put(ctx, CollRoster, p.ID, doc)
}

// BaseRoster returns the configured roster without stored changes.
func (pe *People) BaseRoster() *Roster { return pe.roster }

// LangOf returns the language for p: the stored preference, the roster
// entry's, or the deployment's. Preferences are cached like the roster.
func (pe *People) LangOf(ctx context.Context, p *Person) string {
	if p == nil {
		return pe.b.Lang
	}
	prefs, ok := pe.prefsCache.get(pe.cacheTTL)
	if !ok || wroteIn(ctx, CollPrefs) {
		prefs = map[string]Prefs{}
		if docs, err := pe.b.Store.List(ctx, CollPrefs); err == nil {
			for _, d := range docs {
				var pr Prefs
				if json.Unmarshal(d.Data, &pr) == nil {
					prefs[d.ID] = pr
				}
			}
			if !InUnit(ctx) {
				pe.prefsCache.set(prefs)
			}
		}
	}
	if pr := prefs[p.ID]; pr.Lang != "" {
		return pr.Lang
	}
	if p.Lang != "" {
		return p.Lang
	}
	return pe.b.Lang
}

// SetPrefs stores a person's preferences.
func (pe *People) SetPrefs(ctx context.Context, personID string, pr Prefs) error {
	doc, err := json.Marshal(pr)
	if err != nil {
		return &Error{Code: EINTERNAL, Err: err}
	}
	defer AfterCommit(ctx, func(context.Context) { pe.prefsCache.clear() })
	return pe.b.Store.Put(ctx, CollPrefs, personID, doc)
}

// Group returns the chat ids of group key per platform.
func (pe *People) Group(key string) map[Platform]string { return pe.groups[key] }

// Groups returns every configured group key, sorted.
func (pe *People) Groups() []string {
	var out []string
	for k := range pe.groups {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Prefs are a person's stored preferences.
type Prefs struct {
	Lang string `json:"lang,omitempty"`
}

// cache holds one value for a while. Its clock is the real one, not
// Bot.Now: tests move the bot's clock by days without meaning to age
// the cache.
type cache[T any] struct {
	mu sync.Mutex
	at time.Time
	v  T
	ok bool
}

func (c *cache[T]) get(ttl time.Duration) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ok || ttl <= 0 || time.Since(c.at) > ttl {
		var zero T
		return zero, false
	}
	return c.v, true
}

func (c *cache[T]) set(v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.v, c.at, c.ok = v, time.Now(), true
}

func (c *cache[T]) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ok = false
}
