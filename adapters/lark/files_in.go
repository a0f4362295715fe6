package lark

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strings"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkim "github.com/larksuite/oapi-sdk-go/v3/service/im/v1"

	"github.com/xunji-bot/xunji/bot"
)

// Inbound files.
//
// A Lark file message carries no text, so a command cannot be written on
// it. The convention: a command sent as a reply to a file message (in a
// one-to-one chat, or in a group with the bot @-mentioned) carries that
// file. The adapter reads the replied-to message (im/v1/messages/:id) and,
// when it is a file, downloads it (im/v1/messages/:id/resources/:file_key
// ?type=file, which needs the im:resource permission) onto
// bot.Request.Files. This happens in the background work, after Lark got
// its acknowledgement and right before the command runs.
//
// With the durable inbox the request is stored before the
// acknowledgement, without the bytes; a request recovered after a crash
// reaches the command without its file, and the command answers that no
// file came with it.
//
// A file the adapter does not take — larger than bot.MaxRequestFileSize,
// or whose download failed — is still listed, with its name but no Data,
// so that the command can say which file it did not get.

// errFileTooLarge is a file over bot.MaxRequestFileSize.
var errFileTooLarge = errors.New("file larger than bot.MaxRequestFileSize")

// fetchRepliedFile puts the file of message parentID on req.Files when
// that message is a file message.
func (a *Adapter) fetchRepliedFile(ctx context.Context, req *bot.Request, parentID string) {
	var parent *larkim.Message
	err := a.do(ctx, "get message", func(ctx context.Context) (*larkcore.ApiResp, larkcore.CodeError, error) {
		resp, err := a.client.Im.V1.Message.Get(ctx, larkim.NewGetMessageReqBuilder().MessageId(parentID).Build())
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		if resp.Data != nil && len(resp.Data.Items) > 0 {
			parent = resp.Data.Items[0]
		}
		return resp.ApiResp, resp.CodeError, nil
	})
	if err != nil {
		bot.Log(ctx, a.log).Warn("lark: replied-to message not read; the command runs without its file", "parent", parentID, "err", err)
		return
	}
	if parent == nil || str(parent.MsgType) != "file" || parent.Body == nil {
		return // a reply to something else than a file
	}
	var content struct {
		FileKey  string `json:"file_key"`
		FileName string `json:"file_name"`
	}
	if err := json.Unmarshal([]byte(str(parent.Body.Content)), &content); err != nil || content.FileKey == "" {
		bot.Log(ctx, a.log).Warn("lark: file message without a file key", "parent", parentID, "err", err)
		return
	}
	f := bot.File{Name: content.FileName, MIME: mime.TypeByExtension(strings.ToLower(filepath.Ext(content.FileName)))}
	data, typ, err := a.downloadFile(ctx, parentID, content.FileKey)
	switch {
	case errors.Is(err, errFileTooLarge):
		bot.Log(ctx, a.log).Info("lark file not taken: too large", "parent", parentID)
	case err != nil:
		bot.Log(ctx, a.log).Error("lark file not downloaded", "parent", parentID, "err", err)
	default:
		f.Data = data
		if f.MIME == "" {
			f.MIME = typ
		}
	}
	req.Files = append(req.Files, f)
}

// downloadFile fetches the file key of message id, at most
// bot.MaxRequestFileSize bytes (limitDownloads stops a larger one while
// it is read). It is not retried: a file too large stays too large.
func (a *Adapter) downloadFile(ctx context.Context, messageID, key string) ([]byte, string, error) {
	req := larkim.NewGetMessageResourceReqBuilder().MessageId(messageID).FileKey(key).Type("file").Build()
	resp, err := a.client.Im.V1.MessageResource.Get(ctx, req)
	if err != nil {
		if errors.Is(err, errFileTooLarge) || strings.Contains(err.Error(), errFileTooLarge.Error()) {
			return nil, "", errFileTooLarge
		}
		return nil, "", err
	}
	if !resp.Success() || resp.File == nil {
		return nil, "", &APIError{Op: "download file", Code: resp.Code, Msg: resp.Msg, Status: resp.StatusCode}
	}
	data, err := io.ReadAll(resp.File)
	if err != nil {
		return nil, "", err
	}
	if len(data) > bot.MaxRequestFileSize {
		return nil, "", errFileTooLarge
	}
	return data, resp.Header.Get("Content-Type"), nil
}

// limitDownloads wraps the HTTP client of the SDK so that a message
// resource download (…/resources/…) larger than bot.MaxRequestFileSize
// fails instead of being read whole into memory.
type limitDownloads struct{ inner larkcore.HttpClient }

func (l limitDownloads) Do(r *http.Request) (*http.Response, error) {
	resp, err := l.inner.Do(r)
	if err != nil || r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/resources/") {
		return resp, err
	}
	if resp.ContentLength > bot.MaxRequestFileSize {
		resp.Body.Close()
		return nil, errFileTooLarge
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: bot.MaxRequestFileSize}
	return resp, nil
}

// limitedBody fails a read past left bytes.
type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errFileTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, errFileTooLarge
	}
	return n, err
}
