package lark

import (
	"context"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkcontact "github.com/larksuite/oapi-sdk-go/v3/service/contact/v3"

	"github.com/xunji-bot/xunji/bot"
)

var _ bot.UserFinder = (*Adapter)(nil)

// FindUser implements bot.UserFinder with the contact API's batch_get_id
// (POST /open-apis/contact/v3/users/batch_get_id, scope
// contact:user.id:readonly): the open_id of the user registered with a
// mobile number or e-mail address, "" when there is none or the app may
// not see them (outside its availability).
func (a *Adapter) FindUser(ctx context.Context, by bot.Contact, value string) (string, error) {
	body := larkcontact.NewBatchGetIdUserReqBodyBuilder()
	switch by {
	case bot.ByMobile:
		body.Mobiles([]string{value})
	case bot.ByEmail:
		body.Emails([]string{value})
	default:
		return "", nil
	}
	req := larkcontact.NewBatchGetIdUserReqBuilder().UserIdType("open_id").Body(body.Build()).Build()
	var id string
	err := a.do(ctx, "find user", func(ctx context.Context) (*larkcore.ApiResp, larkcore.CodeError, error) {
		resp, err := a.client.Contact.V3.User.BatchGetId(ctx, req)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		if resp.Data != nil {
			for _, u := range resp.Data.UserList {
				if u != nil && str(u.UserId) != "" {
					id = str(u.UserId)
				}
			}
		}
		return resp.ApiResp, resp.CodeError, nil
	})
	return id, err
}
