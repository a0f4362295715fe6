package lark

import (
	"embed"
	"sync"

	"github.com/xunji-bot/xunji/bot/i18n"
)

// textFiles is the adapter's own message catalog, in both languages: the
// few texts it writes itself rather than through a command.
//
//go:embed catalog/*.yaml
var textFiles embed.FS

// texts returns the adapter's catalog, read once.
var texts = sync.OnceValue(func() *i18n.Catalog {
	c, err := i18n.LoadFS(textFiles, "catalog")
	if err != nil {
		panic(err) // embedded files, checked by the tests
	}
	return c
})
