/** An API image through the dashboard's proxy (/images/<sha256>), sized for its slot. */
export function Thumb({
  sha256,
  width = 256,
  alt,
}: {
  sha256: string | undefined;
  width?: 64 | 128 | 256 | 512;
  alt: string;
}) {
  return (
    <div className="thumb">
      {sha256 ? (
        <img src={`/images/${sha256}?w=${width}`} alt={alt} loading="lazy" decoding="async" />
      ) : (
        <span className="none">No image</span>
      )}
    </div>
  );
}
