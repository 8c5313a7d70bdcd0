package testlitestream

import "os/exec"

// versitygwCmd serves the buckets under root on addr to one user.
func versitygwCmd(bin, addr, root, accessKey, secretKey string) *exec.Cmd {
	cmd := exec.Command(bin, "--port", addr, "posix", root)
	// Credentials through the environment keep them off ps. Nothing else:
	// its VGW_* variables would override flags, and AWS_CA_BUNDLE, which
	// this sandbox exports, has no business here.
	cmd.Env = []string{"ROOT_ACCESS_KEY_ID=" + accessKey, "ROOT_SECRET_ACCESS_KEY=" + secretKey}
	return cmd
}
