package slack

import (
	"errors"
	"net/http"
)

// reasonForeignTeam is the reject reason of a request from another
// workspace than Config.TeamID.
const reasonForeignTeam = "foreign_team"

// errForeignTeam marks a Socket Mode event from another workspace, which
// teamAllowed has logged and counted already.
var errForeignTeam = errors.New("request from another workspace")

// teamAllowed reports whether a request from workspace team (its
// team_id, team.id in an interaction) may go on: always when no team is
// configured. A request from another workspace, or naming none, is
// logged (ids only, nothing of its content) and counted through the
// reject hook before anything else touches it.
func (a *Adapter) teamAllowed(team, kind, id string) bool {
	if a.cfg.TeamID == "" || team == a.cfg.TeamID {
		return true
	}
	a.log.Warn("slack request from another workspace refused",
		"kind", kind, "team", team, "expected_team", a.cfg.TeamID, "id", id)
	if a.onReject != nil {
		a.onReject(reasonForeignTeam)
	}
	return false
}

// refuseForeignTeam answers an HTTP request from another workspace: 403,
// with X-Slack-No-Retry, as delivering it again would be refused again.
func refuseForeignTeam(w http.ResponseWriter) {
	w.Header().Set("X-Slack-No-Retry", "1")
	http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
}

// warnAnyTeam warns, once when the adapter starts, that without
// SLACK_TEAM_ID requests are accepted from every workspace.
func (a *Adapter) warnAnyTeam() {
	if a.cfg.TeamID == "" {
		a.log.Warn("SLACK_TEAM_ID is not set: requests from any Slack workspace are accepted (the workspace check is off)")
	}
}
