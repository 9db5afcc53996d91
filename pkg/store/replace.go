package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// PutReplace stores small STANDARD data (manifests, system files) at key,
// replacing what is there. Only hot objects are replaced this way:
// replacing one costs nothing, unlike a Deep Archive object.
func PutReplace(ctx context.Context, st Store, key string, data []byte) error {
	_, err := st.Put(ctx, key, bytes.NewReader(data), int64(len(data)), PutOptions{StorageClass: Standard})
	if errors.Is(err, ErrExists) {
		info, herr := st.Head(ctx, key)
		if herr != nil {
			return herr
		}
		if IsCold(info.StorageClass) {
			return fmt.Errorf("%s is a %s object; not replacing it: %w", key, info.StorageClass, ErrExists)
		}
		if err := st.Delete(ctx, key); err != nil {
			return err
		}
		_, err = st.Put(ctx, key, bytes.NewReader(data), int64(len(data)), PutOptions{StorageClass: Standard})
	}
	return err
}
