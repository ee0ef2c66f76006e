// Command import is the Lambda function that loads the licensing system's
// documents: S3 invokes it when one is dropped under imports/ of the ingest
// bucket, and it writes the outcome to results/<name>.json (importfn).
package main

import (
	"os"

	"github.com/partnerportal/licenses/shared/importfn"
)

func main() { importfn.Serve(os.Getenv) }
