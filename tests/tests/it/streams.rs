//! Streams: size and ratio guards, oversized records, truncated archives, and
//! the SHA-256 of what is on disk.

use leakledger::{Options, Problem};
use leakledger_tests::{Way, gzip, scan, write_as};
use sha2::{Digest, Sha256};

fn lines(n: usize) -> String {
    (0..n).map(|i| format!("{{\"request_id\":\"r{i}\",\"body\":\"{}\"}}\n", "y".repeat(i % 50))).collect()
}

#[test]
fn an_oversized_record_is_skipped_and_counted_without_being_held() {
    let content = format!("{}{{\"request_id\":\"huge\",\"body\":\"{}\"}}\n{}", lines(3), "z".repeat(50_000), lines(2));
    for way in [Way::Read, Way::Gzip, Way::Zstd] {
        let dir = tempfile::tempdir().unwrap();
        let path = write_as(dir.path(), "o.jsonl", content.as_bytes(), way);
        let options = Options::new().mmap(false).max_record_bytes(10_000).chunk_size(4096);
        let (o, scan) = scan(&[path.as_path()], &options);
        let got: Vec<_> = o.records.iter().map(|r| (r.line, r.request_id.clone().unwrap())).collect();
        assert_eq!(got, [(1, "r0".into()), (2, "r1".into()), (3, "r2".into()), (5, "r0".into()), (6, "r1".into())]);
        assert_eq!(o.malformed, 1);
        let sample = &scan.sources[0].malformed_samples[0];
        assert_eq!((sample.line, sample.reason), (4, "record longer than the record size limit"));
        assert_eq!(scan.bytes(), content.len() as u64, "{way:?}");
    }
}

#[test]
fn a_gzip_bomb_stops_at_the_ratio_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        std::io::Write::write_all(&mut e, &zeros).unwrap();
    }
    let bomb = e.finish().unwrap();
    let path = dir.path().join("bomb.gz");
    std::fs::write(&path, &bomb).unwrap();
    let (_, scan) = scan(&[path.as_path()], &Options::new().max_ratio(100));
    let s = &scan.sources[0];
    assert!(
        matches!(s.problems.as_slice(), [Problem::DecompressionLimit { .. }]),
        "expected the ratio limit, got {:?}",
        s.problems
    );
    assert!(s.bytes < 64 << 20, "stopped early: {} bytes", s.bytes);
}

#[test]
fn the_size_limit_stops_decompression_and_keeps_what_was_read() {
    let content = lines(20_000);
    let dir = tempfile::tempdir().unwrap();
    let path = write_as(dir.path(), "s.jsonl", content.as_bytes(), Way::Gzip);
    let (o, scan) = scan(&[path.as_path()], &Options::new().max_decompressed_bytes(100_000));
    let s = &scan.sources[0];
    assert!(matches!(s.problems.as_slice(), [Problem::DecompressionLimit { at: 100_000, .. }]), "{:?}", s.problems);
    assert!(o.records.len() > 1000 && o.records.len() < 20_000);
    assert!(o.malformed <= 1, "at most the cut line");
}

#[test]
fn a_truncated_gzip_keeps_its_records_and_says_where_it_broke() {
    let content = lines(5_000);
    let gz = gzip(content.as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl.gz");
    std::fs::write(&path, &gz[..gz.len() * 2 / 3]).unwrap();
    let (o, scan) = scan(&[path.as_path()], &Options::new());
    let s = &scan.sources[0];
    assert!(matches!(s.problems.as_slice(), [Problem::Truncated { .. }]), "{:?}", s.problems);
    assert!(o.records.len() > 1_000, "records before the break count: {}", o.records.len());
    assert!(o.records.len() < 5_000);
    // Every record read is a whole one, in order.
    for (i, r) in o.records.iter().enumerate() {
        assert_eq!(r.request_id.as_deref(), Some(format!("r{i}").as_str()));
    }
}

#[test]
fn sha256_is_of_the_file_on_disk_whichever_way_it_is_read() {
    let content = lines(3_000);
    for way in [Way::Mapped, Way::Read, Way::Gzip, Way::GzipMembers, Way::Zstd] {
        let dir = tempfile::tempdir().unwrap();
        let path = write_as(dir.path(), "h.jsonl", content.as_bytes(), way);
        let mut on_disk = std::fs::read(&path).unwrap();
        if matches!(way, Way::Gzip) {
            // Bytes after the last member are hashed too, and reported.
            on_disk.extend_from_slice(b"trailing junk");
            std::fs::write(&path, &on_disk).unwrap();
        }
        let expected: String = Sha256::digest(&on_disk).iter().map(|b| format!("{b:02x}")).collect();
        let (o, scan) = scan(&[path.as_path()], &Options::new().mmap(!matches!(way, Way::Read)).chunk_size(8192));
        assert_eq!(scan.sources[0].sha256.as_deref(), Some(expected.as_str()), "{way:?}");
        assert_eq!(o.records.len(), 3_000, "{way:?}");
    }
}

#[test]
fn hashing_can_be_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_as(dir.path(), "n.jsonl", lines(10).as_bytes(), Way::Mapped);
    let (_, scan) = scan(&[path.as_path()], &Options::new().hash(false));
    assert_eq!(scan.sources[0].sha256, None);
}
