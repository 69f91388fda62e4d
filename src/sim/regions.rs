//! The regions the simulator answers for: a request naming another gets
//! `InvalidRegionId.NotFound`, as it would from the cloud.

use std::collections::BTreeSet;

/// Region ids the simulator accepts as `RegionId` (besides those a state
/// uses): Alibaba Cloud's public regions.
pub const KNOWN_REGIONS: &[&str] = &[
    "cn-qingdao",
    "cn-beijing",
    "cn-zhangjiakou",
    "cn-huhehaote",
    "cn-wulanchabu",
    "cn-hangzhou",
    "cn-shanghai",
    "cn-nanjing",
    "cn-fuzhou",
    "cn-wuhan-lr",
    "cn-shenzhen",
    "cn-heyuan",
    "cn-guangzhou",
    "cn-chengdu",
    "cn-hongkong",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-south-1",
    "us-east-1",
    "us-west-1",
    "na-south-1",
    "eu-west-1",
    "eu-central-1",
    "me-east-1",
    "me-central-1",
];

/// The region of everything that names none.
pub const DEFAULT_REGION: &str = "cn-hangzhou";

/// The regions a server accepts: the public ones and every one its world uses.
pub fn accepted<'a>(used: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    KNOWN_REGIONS
        .iter()
        .copied()
        .chain(used)
        .map(str::to_owned)
        .collect()
}
