package bot

import (
	"context"
	"fmt"
	"sort"
)

// Contact names what a person is looked up by on a platform.
type Contact string

// The contacts UserFinder looks people up by.
const (
	ByMobile Contact = "mobile"
	ByEmail  Contact = "email"
)

// UserFinder is an optional Adapter ability: finding a platform user's id
// by the mobile number or e-mail address their organisation registered
// (Lark's contact API), so that an administrator can add a person whose
// id the platform's client never shows. FindUser returns "" and no error
// when nobody has value.
type UserFinder interface {
	FindUser(ctx context.Context, by Contact, value string) (userID string, err error)
}

// FindUser asks the adapters that can (UserFinder) for the user with the
// mobile number or e-mail value, in platform order, and returns the first
// found. Nobody found is ENOTFOUND; a platform that cannot be asked is
// EUNAVAILABLE; no platform that can look people up (no Lark) is
// EINVALID, saying so.
func (pe *People) FindUser(ctx context.Context, by Contact, value string) (Platform, string, error) {
	pe.b.Out.mu.RLock()
	var plats []Platform
	for p, a := range pe.b.Out.adapters {
		if _, ok := a.(UserFinder); ok {
			plats = append(plats, p)
		}
	}
	pe.b.Out.mu.RUnlock()
	if len(plats) == 0 {
		return "", "", Coded(EINVALID, "error.no_user_finder")
	}
	sort.Slice(plats, func(i, j int) bool { return plats[i] < plats[j] })
	var failed error
	for _, p := range plats {
		a, _ := pe.b.Out.Adapter(p)
		id, err := a.(UserFinder).FindUser(ctx, by, value)
		switch {
		case err != nil:
			pe.b.Log.Warn("user look-up failed", "platform", p, "by", by, "err", err)
			failed = err
		case id != "":
			return p, id, nil
		}
	}
	if failed != nil {
		return "", "", Unavailable(fmt.Errorf("find user by %s: %w", by, failed))
	}
	return "", "", &Error{Code: ENOTFOUND, Key: "error.not_found", Args: []any{"id", value}}
}
