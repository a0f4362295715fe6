package progress

import (
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/adapters/lark"
	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// sendImport runs "进度 导入" as person on platform with files attached,
// as an adapter hands it over.
func sendImport(t *testing.T, env *bottest.Env, person string, platform bot.Platform, slash bool, files ...bot.File) string {
	t.Helper()
	p := env.Person(person)
	req := &bot.Request{Kind: bot.KindCommand, Platform: platform, UserID: p.IDs[platform], Direct: true, Text: "进度 导入", Files: files}
	if slash {
		req.ResponseURL = "https://hooks.slack.com/commands/T0/1/x"
	}
	return bottest.Text(env.Bot.Handle(ctx, req))
}

func TestImportAFileSentWithTheCommand(t *testing.T) {
	tests := []struct {
		name string
		file bot.File
	}{
		{"csv by extension", bot.File{Name: "整改台账.CSV", MIME: "application/octet-stream", Data: []byte(goodCSV)}},
		{"csv by MIME", bot.File{Name: "台账", MIME: "text/csv; charset=utf-8", Data: []byte(goodCSV)}},
		{"xlsx", bot.File{Name: "整改台账.xlsx", Data: xlsxSheet(t, [][]any{
			{"责任单位", "整改事项", "整改时限", "监督单位"},
			{"区财政局党组", "专项资金管理制度不健全", "2027-03-31", "第二监督检查室"},
			{"城关镇党委", "村级财务公开不及时", "2027-01-31", "城关镇派出监察员办公室"},
		})}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t)
			// A picture sent along is left alone.
			other := bot.File{Name: "photo.png", MIME: "image/png", Data: []byte("png")}
			got := sendImport(t, env, "lina", lark.Name, false, other, tc.file)
			n := itemCount(t, env)
			if n < 2 {
				t.Fatalf("%d items after: %s", n, got)
			}
			contains(t, got, env.TZ("progress.import.done", "count", n, "first", "ZG-2026-0001", "last", "ZG-2026-000"+string(rune('0'+n))))
			if a := audits(t, env, "progress.import"); len(a) != 1 || a[0].Person != "lina" {
				t.Errorf("import audit %+v", a)
			}
		})
	}
}

func TestImportFileProblemsAnswerClearlyAndCreateNothing(t *testing.T) {
	csv := func(name string, data string) bot.File {
		return bot.File{Name: name, MIME: "text/csv", Data: []byte(data)}
	}
	tests := []struct {
		name     string
		platform bot.Platform
		slash    bool
		files    []bot.File
		want     string
		args     []any
	}{
		{"no file on Slack", slack.Name, false, nil, "progress.import.attach_slack", nil},
		{"slash command on Slack", slack.Name, true, nil, "progress.import.attach_slack_slash", nil},
		{"no file on Lark", lark.Name, false, nil, "progress.import.attach_lark", nil},
		{"not received (too large or failed)", slack.Name, false, []bot.File{{Name: "大台账.xlsx", MIME: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}},
			"progress.import.not_received", []any{"name", "大台账.xlsx", "max", 5}},
		{"over the import limit", lark.Name, false, []bot.File{csv("a.csv", strings.Repeat("x", maxFileBytes+1))}, "progress.import.too_big", []any{"max", 5}},
		{"not a sheet", lark.Name, false, []bot.File{{Name: "台账.docx", Data: []byte("doc")}}, "progress.import.format", []any{"format", ".docx"}},
		{"two sheets", slack.Name, false, []bot.File{csv("a.csv", goodCSV), csv("b.csv", goodCSV)}, "progress.import.one_file", []any{"count", 2}},
		{"bad rows", slack.Name, false, []bot.File{csv("bad.csv", "责任单位,整改事项,整改时限,监督单位\n不存在,问题,2027-01-01,第二监督检查室\n")},
			"progress.import.refused", []any{"count", 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t)
			got := sendImport(t, env, "lina", tc.platform, tc.slash, tc.files...)
			contains(t, got, env.TZ(tc.want, tc.args...))
			if n := itemCount(t, env); n != 0 {
				t.Errorf("%d items created", n)
			}
		})
	}
}

func TestImportFileOnlyByTheInspectionSide(t *testing.T) {
	env := newEnv(t)
	got := sendImport(t, env, "zhoutao", slack.Name, false, bot.File{Name: "a.csv", Data: []byte(goodCSV)})
	if itemCount(t, env) != 0 {
		t.Fatalf("a unit member imported: %s", got)
	}
}
