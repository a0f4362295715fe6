package admin

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xunji-bot/xunji/bot"
)

// maxName bounds a person's name and console id, in characters.
const maxName = 32

// validName reports whether s may be a person's name: not empty, at most
// maxName characters, no spaces, no characters the command syntax uses
// ({ } @ :), and no control or format characters — a bidi override such
// as U+202E would make the name display as something else in every list
// and card.
func validName(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > maxName || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || !unicode.IsPrint(r) || strings.ContainsRune("{}@:：", r) {
			return false
		}
	}
	return true
}

// validAccount reports whether id has the form of a user id on the
// platform spec describes; an id on a platform whose ids are names (the
// console) follows the rules of a name.
func validAccount(spec bot.PlatformSpec, id string) bool {
	if spec.NamedIDs {
		return validName(id)
	}
	return spec.ValidUser(id)
}

// printable shows s with control and format characters as U+XXXX, so an
// answer quoting a refused name never carries the character itself.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			fmt.Fprintf(&b, "%U", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
