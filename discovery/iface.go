package discovery

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
)

// DefaultInterfaces returns the interfaces mDNS uses when Options.Interfaces
// is empty: those that are up and multicast-capable, loopback excluded. It
// returns an error wrapping ErrNoInterfaces if there are none.
func DefaultInterfaces() ([]net.Interface, error) {
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("failed to list interfaces: %w", err)
	}
	var out []net.Interface
	for _, ifc := range all {
		if ifc.Flags&net.FlagUp != 0 && ifc.Flags&net.FlagMulticast != 0 && ifc.Flags&net.FlagLoopback == 0 {
			out = append(out, ifc)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoInterfaces
	}
	return out, nil
}

// InterfacesByName looks interfaces up by name, for Options.Interfaces.
func InterfacesByName(names ...string) ([]net.Interface, error) {
	out := make([]net.Interface, 0, len(names))
	for _, name := range names {
		ifc, err := net.InterfaceByName(name)
		if err != nil {
			return nil, fmt.Errorf("failed to find interface %q: %w", name, err)
		}
		out = append(out, *ifc)
	}
	return out, nil
}

// resolveInterfaces returns the interfaces to use. It never returns an
// empty list: the mDNS library would then pick interfaces by itself.
func resolveInterfaces(opts Options) ([]net.Interface, error) {
	if len(opts.Interfaces) == 0 {
		return DefaultInterfaces()
	}
	for _, ifc := range opts.Interfaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagMulticast == 0 {
			return nil, fmt.Errorf("%w: interface %q is not up and multicast-capable", ErrNoInterfaces, ifc.Name)
		}
	}
	return append([]net.Interface(nil), opts.Interfaces...), nil
}

// interfaceIPs returns the addresses to advertise for ifaces: IPv4, and IPv6
// that is not link-local (unusable without a zone); loopback addresses only
// on loopback interfaces.
func interfaceIPs(ifaces []net.Interface) ([]net.IP, error) {
	var out []net.IP
	for _, ifc := range ifaces {
		addrs, err := ifc.Addrs()
		if err != nil {
			return nil, fmt.Errorf("failed to list addresses of %q: %w", ifc.Name, err)
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip := ipn.IP
			if ip.IsLinkLocalUnicast() && ip.To4() == nil ||
				ip.IsLoopback() && ifc.Flags&net.FlagLoopback == 0 ||
				ip.IsUnspecified() || ip.IsMulticast() {
				continue
			}
			out = append(out, ip)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoAddresses
	}
	return out, nil
}

// entryAddrs converts the library's addresses to AddrPorts, deduplicated
// and bounded by maxAddrsPerEntry. zone names the only interface in use, or
// is "" (then IPv6 link-local addresses are dropped). Loopback addresses are
// kept only when loopback is set (browsing loopback interfaces only).
func entryAddrs(ips []net.IP, port int, zone string, loopback bool) []netip.AddrPort {
	var out []netip.AddrPort
	for _, ip := range ips {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		a = a.Unmap()
		if a.Is6() && a.IsLinkLocalUnicast() {
			if zone == "" {
				continue
			}
			a = a.WithZone(zone)
		}
		if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() && !loopback {
			continue
		}
		ap := netip.AddrPortFrom(a, uint16(port))
		if !slices.Contains(out, ap) {
			out = append(out, ap)
		}
		if len(out) == maxAddrsPerEntry {
			break
		}
	}
	return out
}
