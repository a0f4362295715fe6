#!/bin/sh
# botsplit.sh rewrites the call sites of the methods that moved from
# *bot.Bot to its parts (issue 20): b.AuditOf(...) becomes
# b.Audit.Of(...), b.Roster(ctx) becomes b.People.Roster(ctx), and so on.
#
# It rewrites every Go file of the repository except the core package's
# own sources (bot/*.go; its tests are rewritten). Run it from anywhere
# inside the repository; it is idempotent: a second run changes nothing.
#
# A receiver is taken for a bot when it is b, X.b or X.Bot (env.Bot,
# h.b, m.b, hs.env.Bot ...), which is how the repository names its bots.
# Only calls are rewritten (X.Roster( but not X.Roster): other types
# have fields of these names. Method values are rewritten below, one by
# one.
set -eu
cd "$(git rev-parse --show-toplevel)"

files=$(git ls-files '*.go' | grep -v -E '^bot/[^/]*\.go$' || true)
files="$files $(git ls-files 'bot/*_test.go')"

# old=Part.new, one per line; new defaults to old.
map='
Register=Router
Commands=Router
Use=Router
FindCommand=Router.Find
WantsFiles=Router
HelpAll=Router
HelpFor=Router
HelpForSub=Router
UnknownSub=Router
Roster=People
SavePerson=People
BaseRoster=People
LangOf=People
SetPrefs=People
Group=People
Groups=People
PlatformName=People
FindUser=People
Audit=Audit.Record
AuditResult=Audit.Result
AuditOf=Audit.Of
AuditBetween=Audit.Between
Notify=Out
Send=Out
UpdateCards=Out
Names=Out
Delivered=Out
AddAdapter=Out
Adapter=Out
SetSender=Out
Accept=Inbox
Process=Inbox
Done=Inbox
RecoverInbox=Inbox.Recover
TakeTurn=Inbox
DeliverLate=Inbox
LeaveToRecovery=Inbox
OnDuplicate=Inbox
AddJob=Jobs.Add
Jobs=Jobs.All
RunJobs=Jobs.Run
AddTask=Jobs
Task=Jobs
TaskNames=Jobs
'

# A bot receiver: b, X.b or X.Bot, not preceded by a word or a dot.
recv='(?<![\w.])((?:\w+\.)*Bot|\w+\.b|b)'

expr=''
for line in $map; do
	old=${line%%=*}
	new=${line#*=}
	case $new in
	*.*) ;;
	*) new=$new.$old ;;
	esac
	expr="$expr s/$recv\\.$old\\(/\$1.$new(/g;"
done

# Method values, where the repository passes them.
expr="$expr s/(?<![\\w.])b\\.Adapter(?=,)/b.Out.Adapter/g;"

# Where a type wraps the bot's durable inbox, it now wraps Bot.Inbox.
perl -pi -e 's/(?<![\w.])d\.bot\.(Accept|Process|Done|WantsFiles|TakeTurn|DeliverLate)\(/d.bot.Inbox.$1(/g' adapters/slack/helpers_test.go
perl -pi -e 's/^type ingestOnly struct\{ \*bot\.Bot \}/type ingestOnly struct{ *bot.Inbox }/; s/ingestOnly\{b\}/ingestOnly{b.Inbox}/g' cmd/xunji-load/pipeline.go

# Comments that name the moved methods.
# shellcheck disable=SC2086
perl -pi -e 's/\bBot\.AuditOf\b/Bot.Audit.Of/g; s/\bBot\.AuditBetween\b/Bot.Audit.Between/g; s/\bbot\.Bot\.AuditResult\b/bot.Bot.Audit.Result/g; s/\bbot\.RunJobs\b/bot.Bot.Jobs.Run/g; s/\bwith e\.Bot\.Register\./with e.Bot.Router.Register./; s/\(bot\.DurableHandler, as \*bot\.Bot does\)/(bot.DurableHandler, as bot.Bot.Inbox does)/' $files

# Test handlers that embedded *bot.Bot to be a DurableHandler embed its
# Inbox, the durable handler, instead.
perl -pi -e 's/^(\s*)\*bot\.Bot$/$1*bot.Inbox/; s/(?<![\w.])(c|s)\.Bot\.(?:Inbox\.)?(Handle|Accept|Done|DeliverLate)\(/$1.Inbox.$2(/g' adapters/lark/helpers_test.go bot/serve_test.go
# shellcheck disable=SC2086
perl -pi -e 's/\b(served|countingHandler)\{Bot: ((?:\w+\.)*Bot)\}/$1\{Inbox: $2.Inbox\}/g' $files

# Adapters serve the durable inbox (bot.DurableHandler), which *bot.Bot
# was and Bot.Inbox now is: where the bot was passed as the handler, its
# Inbox is passed.
h='((?:\w+\.)*Bot|bottest\.New\(t\)\.Bot|b)'
# shellcheck disable=SC2086
perl -pi -e "s/(?<![\\w.])(a\\.Run|a\\.Mount|ha\\.Mount)\\(((?:\\w+\\.)*\\w+(?:\\(\\))?), $h\\)/\\1(\\2, \\3.Inbox)/g; s/\\bHandOver\\((\\w+), $h,/HandOver(\\1, \\2.Inbox,/g; s/\\{h: $h\\}/{h: \\1.Inbox}/g" $files
perl -pi -e 's/^(\s*)var h bot\.Handler = b$/$1var h bot.Handler = b.Inbox/' cmd/xunji-load/pipeline.go

# shellcheck disable=SC2086
perl -pi -e "$expr" $files

# *bot.Bot still has Handle, so passing the bot where a handler is
# wanted compiles but loses the durable inbox: name what looks like it.
# shellcheck disable=SC2086
if grep -nE '\b(Run|Mount|Serve|HandOver)\([^()]*(\(\))?[^()]*[, ](b|(\w+\.)*Bot)[,)]' $files | grep -v '\.Inbox\b'; then
	echo "botsplit: check the lines above: a bot passed as a handler should be its Inbox" >&2
fi
