package clue

import "embed"

// texts is the package's message catalog, in both languages; Register
// adds it to the bot's translator (bot.Bot.AddTexts).
//
//go:embed catalog/*.yaml
var texts embed.FS

// textsDir is the folder of texts holding the catalog files.
const textsDir = "catalog"
