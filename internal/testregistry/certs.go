package testregistry

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// tlsFiles are the PEM files of a throwaway CA and of a server certificate
// it signed.
type tlsFiles struct {
	caCert, cert, key string
}

// writeCerts makes a CA and a certificate for ip signed by it, and writes
// them as PEM under dir. Docker engines refuse plain HTTP to a registry that
// is not on loopback, and they verify its certificate against the CA in
// /etc/docker/certs.d, so the CA is all they need to trust.
func writeCerts(dir string, ip net.IP) (tlsFiles, error) {
	files := tlsFiles{
		caCert: filepath.Join(dir, "ca.crt"),
		cert:   filepath.Join(dir, "server.crt"),
		key:    filepath.Join(dir, "server.key"),
	}
	// Valid a little before now: the engines may disagree with us about
	// the clock by a second.
	notBefore := time.Now().Add(-time.Hour)
	notAfter := time.Now().Add(24 * time.Hour)

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return files, fmt.Errorf("generate CA key: %w", err)
	}
	// No SerialNumber: crypto/x509 picks a random one.
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "ship testregistry CA"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return files, fmt.Errorf("create CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return files, fmt.Errorf("parse CA certificate: %w", err)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return files, fmt.Errorf("generate server key: %w", err)
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: ip.String()},
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{ip},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return files, fmt.Errorf("create server certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return files, fmt.Errorf("encode server key: %w", err)
	}

	for _, f := range []struct {
		path, kind string
		der        []byte
	}{
		{files.caCert, "CERTIFICATE", caDER},
		{files.cert, "CERTIFICATE", der},
		{files.key, "PRIVATE KEY", keyDER},
	} {
		data := pem.EncodeToMemory(&pem.Block{Type: f.kind, Bytes: f.der})
		if err := os.WriteFile(f.path, data, 0o600); err != nil {
			return files, fmt.Errorf("write %s: %w", f.path, err)
		}
	}
	return files, nil
}
