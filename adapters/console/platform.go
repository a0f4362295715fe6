package console

import "github.com/xunji-bot/xunji/bot"

// Name is the console's platform key.
const Name bot.Platform = "console"

// Platform describes the console to the core: its ids are people's and
// groups' names, and a command may name a local file instead of sending
// one. The program builds the console itself (it needs the terminal), so
// the spec has no Open.
func Platform() bot.PlatformSpec {
	return bot.PlatformSpec{Name: Name, NamedIDs: true, LocalFiles: true}
}
