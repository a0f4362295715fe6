package lark

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkim "github.com/larksuite/oapi-sdk-go/v3/service/im/v1"

	"github.com/xunji-bot/xunji/bot"
)

// sendFiles uploads each attachment (images through im/v1/images, other
// files through im/v1/files, which needs the im:resource permission) and
// posts it as an image or file message to the chat or person. Each post
// carries a uuid derived from base, so a retried send is shown once.
func (a *Adapter) sendFiles(ctx context.Context, idType, to string, files []bot.File, base string) error {
	for i, f := range files {
		var msgType, key string
		var err error
		if strings.HasPrefix(f.MIME, "image/") {
			msgType = "image"
			key, err = a.uploadImage(ctx, f)
		} else {
			msgType = "file"
			key, err = a.uploadFile(ctx, f)
		}
		if err != nil {
			return err
		}
		content, _ := json.Marshal(map[string]string{msgType + "_key": key})
		req := larkim.NewCreateMessageReqBuilder().ReceiveIdType(idType).
			Body(larkim.NewCreateMessageReqBodyBuilder().ReceiveId(to).MsgType(msgType).Content(string(content)).
				Uuid(uuidFor(base, "file", strconv.Itoa(i))).Build()).
			Build()
		err = a.do(ctx, "send "+msgType, func(ctx context.Context) (*larkcore.ApiResp, larkcore.CodeError, error) {
			resp, err := a.client.Im.V1.Message.Create(ctx, req)
			if err != nil {
				return nil, larkcore.CodeError{}, err
			}
			return resp.ApiResp, resp.CodeError, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (a *Adapter) uploadImage(ctx context.Context, f bot.File) (string, error) {
	var key string
	err := a.do(ctx, "upload image", func(ctx context.Context) (*larkcore.ApiResp, larkcore.CodeError, error) {
		req := larkim.NewCreateImageReqBuilder().
			Body(larkim.NewCreateImageReqBodyBuilder().ImageType("message").Image(bytes.NewReader(f.Data)).Build()).
			Build()
		resp, err := a.client.Im.V1.Image.Create(ctx, req)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		if resp.Data != nil {
			key = str(resp.Data.ImageKey)
		}
		return resp.ApiResp, resp.CodeError, nil
	})
	return key, err
}

func (a *Adapter) uploadFile(ctx context.Context, f bot.File) (string, error) {
	var key string
	err := a.do(ctx, "upload file", func(ctx context.Context) (*larkcore.ApiResp, larkcore.CodeError, error) {
		req := larkim.NewCreateFileReqBuilder().
			Body(larkim.NewCreateFileReqBodyBuilder().FileType(larkFileType(f.Name)).FileName(f.Name).File(bytes.NewReader(f.Data)).Build()).
			Build()
		resp, err := a.client.Im.V1.File.Create(ctx, req)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		if resp.Data != nil {
			key = str(resp.Data.FileKey)
		}
		return resp.ApiResp, resp.CodeError, nil
	})
	return key, err
}

// larkFileType maps a file name to the file_type Lark's upload expects.
func larkFileType(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".pdf":
		return "pdf"
	case ".doc", ".docx":
		return "doc"
	case ".xls", ".xlsx", ".csv":
		return "xls"
	case ".ppt", ".pptx":
		return "ppt"
	case ".mp4":
		return "mp4"
	case ".opus":
		return "opus"
	}
	return "stream"
}
