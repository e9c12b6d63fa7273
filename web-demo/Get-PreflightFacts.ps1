<#
.SYNOPSIS
    Prints this machine's facts for the Preflight ACS self-check, as JSON.

.DESCRIPTION
    Reads, without changing anything: the Windows build with its revision (UBR) from the registry,
    whether this is a server or a workstation, the installed updates, whether automatic root
    certificate updates are allowed, whether the Microsoft Identity Verification Root Certificate
    Authority 2020 is trusted, and the Trend Micro product and version where they can be read.
    Paste the output into the self-check page. Nothing is sent anywhere.

.EXAMPLE
    powershell -ExecutionPolicy Bypass -File .\Get-PreflightFacts.ps1
#>
[CmdletBinding()]
param()

$ErrorActionPreference = 'SilentlyContinue'

# Windows build and revision: "10.0.19044.1586" (ver prints the same).
$cv = Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
$osInfo = Get-CimInstance Win32_OperatingSystem
$build = if ($cv.CurrentBuild) { [int]$cv.CurrentBuild } else { [int]$osInfo.BuildNumber }
$version = [Environment]::OSVersion.Version
$major, $minor = $version.Major, $version.Minor
if ($cv.CurrentMajorVersionNumber -ne $null) { $major = $cv.CurrentMajorVersionNumber; $minor = $cv.CurrentMinorVersionNumber }
$osVersion = "$major.$minor.$build"
if ($cv.UBR -ne $null) { $osVersion = "$osVersion.$($cv.UBR)" }

# ProductType: 1 workstation, 2 domain controller, 3 server.
$productType = if ($osInfo.ProductType -eq 1) { 'workstation' } else { 'server' }

# Installed updates as Get-HotFix lists them.
$hotfixes = @(Get-HotFix | Where-Object { $_.HotFixID -match '^KB\d+$' } | ForEach-Object { $_.HotFixID } | Sort-Object -Unique)

# Automatic root certificate updates are off when this policy value is 1.
$policy = Get-ItemProperty 'HKLM:\SOFTWARE\Policies\Microsoft\SystemCertificates\AuthRoot' -Name DisableRootAutoUpdate
$autoUpdate = -not ($policy -and $policy.DisableRootAutoUpdate -eq 1)

# Microsoft Identity Verification Root Certificate Authority 2020.
$thumbprint = 'F40042E2E5F7E8EF8189FED15519AECE42C3BFA2'
$caPresent = [bool](Get-ChildItem Cert:\LocalMachine\Root | Where-Object { $_.Thumbprint -eq $thumbprint })

# The Trend Micro product, from the uninstall entries (first match wins).
$products = @(
    @{ Id = 'deep_security_agent';  Pattern = '^Trend Micro Deep Security Agent' },
    @{ Id = 'deep_security_manager'; Pattern = '^Trend Micro Deep Security Manager' },
    @{ Id = 'apex_one';             Pattern = '^(Trend Micro )?Apex One Security Agent' },
    @{ Id = 'wfbs';                 Pattern = '^Trend Micro Worry-Free Business Security Agent' },
    @{ Id = 'cloud_one_wes';        Pattern = '^Trend Micro Cloud One' }
)
$uninstall = Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*', 'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\*'
$product = $null
foreach ($p in $products) {
    $entry = $uninstall | Where-Object { $_.DisplayName -match $p.Pattern } | Select-Object -First 1
    if ($entry) { $product = [ordered]@{ id = $p.Id; version = "$($entry.DisplayVersion)" }; break }
}

$facts = [ordered]@{
    os       = [ordered]@{ platform = 'windows'; version = $osVersion; product_type = $productType }
    hotfixes = $hotfixes
    root_ca  = [ordered]@{ auto_update = $autoUpdate; identity_verification_2020 = $caPresent }
}
if ($product) { $facts.product = $product }

$facts | ConvertTo-Json -Depth 4
