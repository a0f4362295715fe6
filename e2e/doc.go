// Package e2e holds no code: its tests run the coordination jobs'
// flows end to end on the chat platforms — a real bot with the clue and
// co-signature commands, the real Slack and Lark adapters mounted on an
// HTTP server, driven by signed (Slack) and encrypted and signed (Lark)
// requests built by adapters/slack/slacktest and adapters/lark/larktest,
// and the platforms' APIs played by those kits' fake servers, whose
// recorded calls the tests assert on. The same flow runs on both
// platforms.
package e2e
