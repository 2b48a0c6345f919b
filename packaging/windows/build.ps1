# Builds cred-export for Windows: the one-dir bundle (PyInstaller), signed, as a zip and an MSI.
# Run on Windows in PowerShell 5.1 or 7 (not runnable on Linux):
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1 [-Python py] `
#       [-CertificateThumbprint THUMBPRINT] [-TimestampUrl URL] [-NoMsi]
#
# Needs: Python 3.10+ (64-bit), the Windows SDK's signtool.exe for signing, and the WiX
# Toolset v5 (`dotnet tool install --global wix`) for the MSI. Outputs under dist\:
#   dist\bundle\cred-export\cred-export.exe (+ _internal\), dist\cred-export-VERSION-windows-x64.zip,
#   dist\cred-export-VERSION-x64.msi
param(
    [string]$Python = "py",
    [string]$CertificateThumbprint = "",
    [string]$TimestampUrl = "",
    [switch]$NoMsi
)
$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

$Root = (Resolve-Path "$PSScriptRoot\..\..").Path
$Dist = Join-Path $Root "dist"
$Work = Join-Path $Root "build\pyinstaller"
$Venv = Join-Path $Root "build\packaging-venv"

function Invoke-Checked([string]$Exe, [string[]]$Arguments) {
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Get-ToolsPython {
    $venvPython = Join-Path $Venv "Scripts\python.exe"
    if (-not (Test-Path $venvPython)) { Invoke-Checked $Python @("-m", "venv", $Venv) }
    & $venvPython (Join-Path $Root "packaging\check_tools.py") (Join-Path $Root "pyproject.toml") | Out-Null
    if ($LASTEXITCODE -ne 0) {
        Invoke-Checked $venvPython @("-m", "pip", "install", "-q", "pyinstaller>=6.3", "build>=1.0", $Root)
    }
    return $venvPython
}

function Build-Bundle([string]$ToolsPython) {
    Invoke-Checked $ToolsPython @("-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
        "--distpath", (Join-Path $Dist "bundle"), "--workpath", $Work,
        (Join-Path $Root "packaging\bundle\cred-export.spec"))
    return (Join-Path $Dist "bundle\cred-export")
}

function Set-Signatures([string]$Bundle) {
    if (-not $CertificateThumbprint) { Write-Warning "no -CertificateThumbprint: binaries stay unsigned"; return }
    $files = Get-ChildItem $Bundle -Recurse -Include *.exe, *.dll, *.pyd | ForEach-Object { $_.FullName }
    $arguments = @("sign", "/sha1", $CertificateThumbprint, "/fd", "SHA256")
    if ($TimestampUrl) { $arguments += @("/tr", $TimestampUrl, "/td", "SHA256") }
    Invoke-Checked "signtool.exe" ($arguments + $files)
}

function Get-BundleVersion([string]$Bundle) {
    $output = & (Join-Path $Bundle "cred-export.exe") --version
    if ($LASTEXITCODE -ne 0 -or $output -notmatch "version (\S+)") { throw "cred-export.exe --version failed" }
    return $Matches[1]
}

function Build-Zip([string]$Bundle, [string]$Version) {
    $zip = Join-Path $Dist "cred-export-$Version-windows-x64.zip"
    Compress-Archive -Path $Bundle -DestinationPath $zip -Force
    return $zip
}

function Build-Msi([string]$Bundle, [string]$Version) {
    $msi = Join-Path $Dist "cred-export-$Version-x64.msi"
    Invoke-Checked "wix" @("build", (Join-Path $PSScriptRoot "cred-export.wxs"), "-arch", "x64",
        "-bindpath", "bundle=$Bundle", "-bindpath", "config=$(Join-Path $Root 'packaging\config')",
        "-d", "Version=$Version", "-o", $msi)
    if ($CertificateThumbprint) {
        $arguments = @("sign", "/sha1", $CertificateThumbprint, "/fd", "SHA256")
        if ($TimestampUrl) { $arguments += @("/tr", $TimestampUrl, "/td", "SHA256") }
        Invoke-Checked "signtool.exe" ($arguments + @($msi))
    }
    return $msi
}

$toolsPython = Get-ToolsPython
$bundle = Build-Bundle $toolsPython
Set-Signatures $bundle
$version = Get-BundleVersion $bundle
Write-Output "bundle: $bundle"
Write-Output "zip: $(Build-Zip $bundle $version)"
if (-not $NoMsi) { Write-Output "msi: $(Build-Msi $bundle $version)" }
