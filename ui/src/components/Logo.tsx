/** Berth's mark: a container resting in a berth (a rounded dock). */
export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" className="logo">
      <defs>
        <linearGradient id="berth-logo" x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stopColor="#4f8cff" />
          <stop offset="1" stopColor="#2f5bd8" />
        </linearGradient>
      </defs>
      <rect x="1" y="1" width="30" height="30" rx="8" fill="url(#berth-logo)" />
      <rect x="8" y="9" width="16" height="9" rx="1.8" fill="#fff" />
      <path d="M12 9v9M16 9v9M20 9v9" stroke="#2f5bd8" strokeWidth="1.3" />
      <path d="M6 21.5c2 1.6 4 1.6 6 0s4-1.6 6 0 4 1.6 6 0 2-1.2 2-1.2" stroke="#cfe0ff" strokeWidth="1.8" fill="none" strokeLinecap="round" />
    </svg>
  );
}
