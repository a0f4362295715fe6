package lark

import (
	"context"
	"encoding/json"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkevent "github.com/larksuite/oapi-sdk-go/v3/event"
	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher/callback"

	"github.com/xunji-bot/xunji/bot"
)

// reasonForeignTenant is the reject reason of an event or callback from
// another tenant than Config.TenantKey.
const reasonForeignTenant = "foreign_tenant"

// header is b's header, nil when it has none.
func header(b *larkevent.EventV2Base) *larkevent.EventHeader {
	if b == nil {
		return nil
	}
	return b.Header
}

// tenantAllowed reports whether an event or callback may go on: always
// when no tenant is configured; otherwise when every tenant it names
// (header.tenant_key, and a card action's operator.tenant_key) is the
// configured one, and it names one at all. A refusal is logged (tenant
// keys and event ids only) and counted through the reject hook before
// anything else touches the request. v is the decoded body, nil for a
// type the adapter does not handle.
func (a *Adapter) tenantAllowed(h *larkevent.EventHeader, v any) bool {
	want := a.cfg.TenantKey
	if want == "" {
		return true
	}
	var eventType, eventID string
	var keys []string
	if h != nil {
		eventType, eventID = h.EventType, h.EventID
		keys = append(keys, h.TenantKey)
	}
	if e, ok := v.(*callback.CardActionTriggerEvent); ok && e.Event != nil && e.Event.Operator != nil && e.Event.Operator.TenantKey != nil {
		keys = append(keys, *e.Event.Operator.TenantKey)
	}
	named, other := false, ""
	for _, k := range keys {
		if k == "" {
			continue
		}
		named = true
		if k != want {
			other = k
		}
	}
	if named && other == "" {
		return true
	}
	a.log.Warn("lark request from another tenant refused",
		"event_type", eventType, "event", eventID, "tenant", other, "expected_tenant", want)
	a.rejected(reasonForeignTenant)
	return false
}

// warnAnyTenant warns, once when the adapter starts, that without
// LARK_TENANT_KEY events are accepted from every tenant.
func (a *Adapter) warnAnyTenant() {
	if a.cfg.TenantKey == "" {
		a.log.Warn("LARK_TENANT_KEY is not set: events from any Lark tenant are accepted (the tenant check is off)")
	}
}

var _ bot.CredentialChecker = (*Adapter)(nil)

// CheckCredentials implements bot.CredentialChecker: it asks Lark for a
// tenant access token with the app id and secret. A refusal is an
// *APIError naming Lark's code (an AuthFailure for a wrong secret or a
// disabled app).
func (a *Adapter) CheckCredentials(ctx context.Context) error {
	body := map[string]string{"app_id": a.cfg.AppID, "app_secret": a.cfg.AppSecret}
	resp, err := a.client.Post(ctx, "/open-apis/auth/v3/tenant_access_token/internal", body, larkcore.AccessTokenTypeNone)
	if err != nil {
		return &APIError{Op: "tenant access token", Err: err}
	}
	var ans struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	}
	if jerr := json.Unmarshal(resp.RawBody, &ans); jerr != nil && resp.StatusCode < 400 {
		return &APIError{Op: "tenant access token", Status: resp.StatusCode, Err: jerr}
	}
	if ans.Code != 0 || resp.StatusCode >= 400 {
		e := &APIError{Op: "tenant access token", Status: resp.StatusCode, Code: ans.Code, Msg: ans.Msg}
		if ans.Code != 0 && !e.rateLimited() && resp.StatusCode < 500 {
			// Whatever Lark's code, a refused app id or secret is the app's
			// credentials: count it as such.
			return authRefused{e}
		}
		return e
	}
	a.log.Info("lark credentials accepted", "app_id", a.cfg.AppID)
	return nil
}

// authRefused is a tenant token refused for the app's credentials.
type authRefused struct{ *APIError }

func (e authRefused) AuthFailure() bool { return true }
func (e authRefused) Unwrap() error     { return e.APIError }
