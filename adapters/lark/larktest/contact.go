package larktest

import (
	"encoding/json"
	"net/http"
)

// AddUser makes the fake's contact directory know the user openID by
// mobile and e-mail (either may be empty), as POST
// /open-apis/contact/v3/users/batch_get_id answers them.
func (s *Server) AddUser(openID, mobile, email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.directory == nil {
		s.directory = map[string]string{}
	}
	if mobile != "" {
		s.directory["mobile:"+mobile] = openID
	}
	if email != "" {
		s.directory["email:"+email] = openID
	}
}

// serveBatchGetID answers contact/v3/users/batch_get_id as Lark does: one
// entry per mobile and e-mail asked, with user_id only for the users it
// knows (and may show).
func (s *Server) serveBatchGetID(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+TenantToken {
		writeJSON(w, 401, map[string]any{"code": 99991663, "msg": "invalid access token"})
		return
	}
	if t := r.URL.Query().Get("user_id_type"); t != "" && t != "open_id" {
		writeJSON(w, 400, map[string]any{"code": 99992402, "msg": "field validation failed: user_id_type"})
		return
	}
	var body struct {
		Emails  []string `json:"emails"`
		Mobiles []string `json:"mobiles"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, 400, map[string]any{"code": 99992402, "msg": "invalid body"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []any{}
	for _, m := range body.Mobiles {
		e := map[string]any{"mobile": m}
		if id := s.directory["mobile:"+m]; id != "" {
			e["user_id"] = id
		}
		list = append(list, e)
	}
	for _, m := range body.Emails {
		e := map[string]any{"email": m}
		if id := s.directory["email:"+m]; id != "" {
			e["user_id"] = id
		}
		list = append(list, e)
	}
	writeJSON(w, 200, map[string]any{"code": 0, "msg": "success", "data": map[string]any{"user_list": list}})
}
