//! Real-looking samples of each format.

use super::*;

const VER: &str = "\nMicrosoft Windows [Version 10.0.19044.1586]\n";

const SYSTEMINFO: &str = r"
Host Name:                 FINANCE-07
OS Name:                   Microsoft Windows Server 2019 Standard
OS Version:                10.0.17763 N/A Build 17763
OS Manufacturer:           Microsoft Corporation
OS Configuration:          Member Server
OS Build Type:             Multiprocessor Free
Registered Owner:          Windows User
Original Install Date:     3/14/2021, 9:12:44 AM
System Boot Time:          11/2/2022, 6:01:10 AM
System Type:               x64-based PC
Hotfix(s):                 4 Hotfix(s) Installed.
                           [01]: KB5020627
                           [02]: KB4589208
                           [03]: KB5005625
                           [04]: KB5020874
Network Card(s):           1 NIC(s) Installed.
";

const GET_HOTFIX: &str = r"
Source        Description      HotFixID      InstalledBy          InstalledOn
------        -----------      --------      -----------          -----------
DESKTOP-7Q2   Update           KB5008212     NT AUTHORITY\SYSTEM  12/15/2021 12:00:00 AM
DESKTOP-7Q2   Security Update  KB5009543     NT AUTHORITY\SYSTEM  1/12/2022 12:00:00 AM
DESKTOP-7Q2   Update           KB5003791                          10/6/2021 12:00:00 AM
";

const WMIC_QFE: &str = r"
Caption                                     CSName     Description      FixComments  HotFixID   InstallDate  InstalledBy          InstalledOn  Name  ServicePackInEffect  Status
http://support.microsoft.com/?kbid=5006743  OLD-W7     Update                        KB5006743               NT AUTHORITY\SYSTEM  10/14/2021
http://support.microsoft.com/?kbid=4474419  OLD-W7     Security Update               KB4474419               NT AUTHORITY\SYSTEM  9/24/2019
https://support.microsoft.com/help/4490628  OLD-W7     Update                        KB4490628               NT AUTHORITY\SYSTEM  3/13/2019
";

const REG_QUERY: &str = r"
HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion
    CurrentBuild    REG_SZ    20348
    InstallationType    REG_SZ    Server
    UBR    REG_DWORD    0x105
";

#[test]
fn ver_gives_the_build_with_its_revision() {
    let e = extract(VER);
    assert_eq!(e.facts, json!({ "os": { "version": "10.0.19044.1586" } }));
    assert!(e.missing.contains(&"os.product_type".to_string()));
    assert!(e.missing.contains(&"product.id".to_string()));
}

#[test]
fn systeminfo_gives_build_role_and_hotfixes() {
    let e = extract(SYSTEMINFO);
    assert_eq!(
        e.facts,
        json!({ "os": { "version": "10.0.17763", "product_type": "server" }, "hotfixes": ["KB5020627", "KB4589208", "KB5005625", "KB5020874"] })
    );
    assert!(e.missing.iter().any(|m| m.contains("UBR")), "{:?}", e.missing);
}

#[test]
fn ver_and_systeminfo_together_keep_the_revision() {
    let e = extract(&format!("{SYSTEMINFO}\n{VER}"));
    assert_eq!(e.facts["os"]["version"], "10.0.19044.1586");
    let e = extract(&format!("{VER}\n{SYSTEMINFO}"));
    assert_eq!(e.facts["os"]["version"], "10.0.19044.1586");
}

#[test]
fn get_hotfix_lists_the_installed_updates() {
    let e = extract(GET_HOTFIX);
    assert_eq!(e.facts, json!({ "hotfixes": ["KB5008212", "KB5009543", "KB5003791"] }));
    assert!(e.found.iter().any(|f| f.contains("Get-HotFix")));
    assert!(e.missing.contains(&"os.version".to_string()));
}

#[test]
fn wmic_qfe_counts_each_update_once() {
    let e = extract(WMIC_QFE);
    assert_eq!(e.facts["hotfixes"], json!(["KB5006743", "KB4474419", "KB4490628"]));
    assert!(e.found.iter().any(|f| f.contains("wmic qfe")));
}

#[test]
fn reg_query_gives_build_revision_and_role() {
    let e = extract(REG_QUERY);
    assert_eq!(e.facts["os"], json!({ "version": "10.0.20348.261", "product_type": "server" }));
}

#[test]
fn the_collectors_json_passes_through() {
    let json = r#"{"product":{"id":"apex_one","version":"14.0.12345"},"os":{"version":"10.0.22621.1413","product_type":"workstation"},"hotfixes":[]}"#;
    let e = extract(json);
    assert_eq!(e.facts["product"]["id"], "apex_one");
    assert!(e.missing.is_empty());
}

#[test]
fn text_without_anything_useful_says_what_is_missing() {
    let e = extract("hello\nthis is not command output KB12 XKB5006714 KB50067145");
    assert_eq!(e.facts, json!({}));
    assert_eq!(e.missing, vec!["product.id", "os.version", "os.product_type"]);
}
