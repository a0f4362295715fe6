package bot

import (
	"fmt"
	"io/fs"
)

// TextAdder is a Translator that takes more texts: bot/i18n's catalog
// starts with the core's texts, and each command package adds its own.
type TextAdder interface {
	// Add reads the catalog files <area>.<lang>.yaml in dir of fsys.
	Add(fsys fs.FS, dir string) error
}

// AddTexts adds a command package's message catalog, the files
// <area>.<lang>.yaml in dir of fsys, to the bot's translator. A package
// calls it when it registers, so its texts live beside its code. Adding
// the same files twice is harmless; a key another area defines is an
// error.
func (b *Bot) AddTexts(fsys fs.FS, dir string) error {
	a, ok := b.tr.(TextAdder)
	if !ok {
		return fmt.Errorf("bot: the translator %T takes no texts", b.tr)
	}
	return a.Add(fsys, dir)
}
