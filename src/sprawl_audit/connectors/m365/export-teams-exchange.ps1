<#
.SYNOPSIS
    Export the Teams and Exchange Online settings that sprawl-audit cannot read through
    Microsoft Graph, as JSON files for `connectors.m365.powershell_exports`.

.DESCRIPTION
    Read-only. Runs only Get-* cmdlets and writes one JSON file per cmdlet into
    -OutputDirectory. Nothing in the tenant is changed.

      teams-federation-configuration.json   Get-CsTenantFederationConfiguration
      teams-external-access-policies.json   Get-CsExternalAccessPolicy
      teams-meeting-policies.json           Get-CsTeamsMeetingPolicy
      teams-app-permission-policies.json    Get-CsTeamsAppPermissionPolicy
      teams-app-settings.json               Get-M365UnifiedTenantSettings (org-wide app
                                            settings of app-centric management)
      teams-messaging-policies.json         Get-CsTeamsMessagingPolicy (who may delete or
                                            edit sent messages)
      teams-client-configuration.json       Get-CsTeamsClientConfiguration (email into
                                            channels, RestrictedSenderList)
      exchange-remote-domains.json          Get-RemoteDomain
      exchange-outbound-spam-policies.json  Get-HostedOutboundSpamFilterPolicy
      exchange-transport-config.json        Get-TransportConfig
      exchange-cas-mailboxes.json           Get-CASMailbox (SmtpClientAuthenticationDisabled)
      exchange-mailbox-forwarding.json      Get-Mailbox (ForwardingSmtpAddress,
                                            ForwardingAddress, DeliverToMailboxAndForward),
                                            with Get-Recipient resolving ForwardingAddress
      exchange-admin-audit-log-config.json  Get-AdminAuditLogConfig
                                            (UnifiedAuditLogIngestionEnabled)
      exchange-organization-config.json     Get-OrganizationConfig (AuditDisabled)
      exchange-sharing-policies.json        Get-SharingPolicy (calendar and contacts sharing
                                            with outside domains)
      exchange-external-in-outlook.json     Get-ExternalInOutlook (the "External" tag on
                                            mail from outside)
      compliance-retention-policies.json    Get-RetentionCompliancePolicy (Security &
                                            Compliance: locations, Enabled, Mode)
      compliance-retention-rules.json       Get-RetentionComplianceRule (RetentionDuration,
                                            RetentionComplianceAction)
      compliance-case-hold-policies.json    Get-ComplianceCase, Get-CaseHoldPolicy
                                            (eDiscovery holds; optional)
      export-info.json                      when, by which module versions, and why a
                                            file is missing (Errors)

    Files are UTF-8 without a byte-order mark, written by ConvertTo-Json with an explicit
    -Depth (the default of 2 flattens nested lists into strings), on Windows PowerShell
    5.1 and PowerShell 7 alike.

    Roles needed (read-only): Teams Administrator or Global Reader for the Teams part;
    Exchange "View-Only Organization Management" (or Global Reader) for the Exchange part,
    which holds the View-Only Recipients (Get-Mailbox, Get-Recipient), View-Only
    Configuration (Get-OrganizationConfig) and View-Only Audit Logs
    (Get-AdminAuditLogConfig) roles. Security & Compliance PowerShell (Connect-IPPSSession)
    for retention: the "View-Only Retention Management" role (in the Compliance
    Administrator, Compliance Data Administrator and Global Reader role groups) runs
    Get-RetentionCompliancePolicy and Get-RetentionComplianceRule; holds need "eDiscovery
    Manager" (Get-ComplianceCase, Get-CaseHoldPolicy) and are skipped, with the reason in
    export-info.json, when it is missing. Use -SkipCompliance to leave retention out.

    Modules: MicrosoftTeams and ExchangeOnlineManagement (PowerShell 5.1 or 7+):
        Install-Module MicrosoftTeams, ExchangeOnlineManagement -Scope CurrentUser

    The mailbox exports hold each mailbox's address with its SMTP AUTH override, and its
    forwarding settings; sprawl-audit counts the first and keeps only the forwarding
    mailboxes and the outside domains they forward to (not the addresses). Use
    -SkipMailboxes to leave both out.

.PARAMETER OutputDirectory
    Folder to write the JSON files to (created if missing). A relative path is relative
    to the current PowerShell location (Set-Location / cd), as for any cmdlet.

.PARAMETER UserPrincipalName
    Admin account to sign in with (optional; you are prompted otherwise).

.PARAMETER SkipTeams
    Do not connect to Teams or export its settings.

.PARAMETER SkipExchange
    Do not connect to Exchange Online or export its settings.

.PARAMETER SkipCompliance
    Do not connect to Security & Compliance PowerShell (retention policies and holds).

.PARAMETER SkipMailboxes
    Do not export per-mailbox SMTP AUTH overrides (Get-CASMailbox) or mailbox forwarding
    (Get-Mailbox).

.PARAMETER ExchangeEnvironmentName
    O365Default (default), O365USGovGCCHigh, O365USGovDoD or O365China.

.PARAMETER TeamsEnvironmentName
    Empty for commercial/GCC, or TeamsGCCH, TeamsDOD, TeamsChina.

.EXAMPLE
    pwsh ./export-teams-exchange.ps1 -OutputDirectory ./exports -UserPrincipalName admin@contoso.com
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$OutputDirectory,
    [string]$UserPrincipalName,
    [switch]$SkipTeams,
    [switch]$SkipExchange,
    [switch]$SkipMailboxes,
    [switch]$SkipCompliance,
    [string]$ExchangeEnvironmentName = 'O365Default',
    [string]$TeamsEnvironmentName = ''
)

$ErrorActionPreference = 'Stop'
$ScriptVersion = '4'
# .NET file APIs resolve a relative path against the process's working directory, which
# PowerShell's location (cd) does not change: resolve it the way cmdlets do.
$OutputDirectory = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutputDirectory)
New-Item -ItemType Directory -Force -Path $OutputDirectory | Out-Null
$Written = @()
$Errors = [ordered]@{}

# Windows PowerShell 5.1 gives arrays an extra Count member, and ConvertTo-Json then writes
# them as {"value": [...], "Count": n}. Dropping that type data (this session only) keeps
# arrays arrays.
if ($PSVersionTable.PSVersion.Major -lt 6) {
    Remove-TypeData -TypeName System.Array -ErrorAction SilentlyContinue
}

function Write-Export {
    param([string]$Name, $Data)
    $path = Join-Path $OutputDirectory $Name
    # Always an array; an explicit depth (the default, 2, flattens nested lists into
    # strings); UTF-8 without a BOM, whatever the PowerShell version's defaults.
    $json = ConvertTo-Json -InputObject @($Data) -Depth 10
    [System.IO.File]::WriteAllText($path, $json, (New-Object System.Text.UTF8Encoding($false)))
    $script:Written += $Name
    Write-Host "wrote $path"
}

function Get-Prop {
    param($Object, [string]$Name)
    if ($null -eq $Object) { return $null }
    $p = $Object.PSObject.Properties[$Name]
    if ($p) { return $p.Value }
    return $null
}

function Get-DomainNames {
    param($List)
    $names = @()
    foreach ($d in @($List)) {
        if ($null -eq $d) { continue }
        if ($d -is [string]) { $names += ($d -replace '^(?i)domain=', '') }
        elseif (Get-Prop $d 'Domain') { $names += [string](Get-Prop $d 'Domain') }
    }
    return , $names
}

function Get-AppIds {
    param($List)
    $ids = @()
    foreach ($a in @($List)) {
        if ($null -eq $a) { continue }
        if ($a -is [string]) { $ids += $a } elseif (Get-Prop $a 'Id') { $ids += [string](Get-Prop $a 'Id') }
    }
    return , $ids
}

if (-not $SkipTeams) {
    Import-Module MicrosoftTeams
    $teamsArgs = @{}
    if ($TeamsEnvironmentName) { $teamsArgs['TeamsEnvironmentName'] = $TeamsEnvironmentName }
    Connect-MicrosoftTeams @teamsArgs | Out-Null

    # External access (federation) and chat with personal Teams accounts.
    $fed = Get-CsTenantFederationConfiguration
    $allowed = Get-Prop $fed 'AllowedDomains'
    $element = [string](Get-Prop $allowed 'Element')
    $allowList = Get-Prop $allowed 'AllowedDomain'
    if ($element -match 'AllowAllKnownDomains') { $mode = 'AllowAllKnownDomains' }
    elseif (($null -ne $allowList) -or ($element -match 'AllowList')) { $mode = 'AllowList' }
    else { $mode = 'AllowAllKnownDomains' }
    Write-Export 'teams-federation-configuration.json' ([pscustomobject]@{
            Identity                            = [string](Get-Prop $fed 'Identity')
            AllowFederatedUsers                 = Get-Prop $fed 'AllowFederatedUsers'
            AllowedDomainsMode                  = $mode
            AllowedDomainNames                  = (Get-DomainNames $allowList)
            BlockedDomainNames                  = (Get-DomainNames (Get-Prop $fed 'BlockedDomains'))
            BlockAllSubdomains                  = Get-Prop $fed 'BlockAllSubdomains'
            AllowTeamsConsumer                  = Get-Prop $fed 'AllowTeamsConsumer'
            AllowTeamsConsumerInbound           = Get-Prop $fed 'AllowTeamsConsumerInbound'
            AllowPublicUsers                    = Get-Prop $fed 'AllowPublicUsers'
            TreatDiscoveredPartnersAsUnverified = Get-Prop $fed 'TreatDiscoveredPartnersAsUnverified'
            ExternalAccessWithTrialTenants      = [string](Get-Prop $fed 'ExternalAccessWithTrialTenants')
        })

    Write-Export 'teams-external-access-policies.json' (Get-CsExternalAccessPolicy | Select-Object `
            @{ n = 'Identity'; e = { [string]$_.Identity } },
        EnableFederationAccess, EnableTeamsConsumerAccess, EnableTeamsConsumerInbound,
        EnablePublicCloudAccess, EnableOutsideAccess)

    Write-Export 'teams-meeting-policies.json' (Get-CsTeamsMeetingPolicy | Select-Object `
            @{ n = 'Identity'; e = { [string]$_.Identity } },
        AllowAnonymousUsersToJoinMeeting, AllowAnonymousUsersToStartMeeting,
        @{ n = 'AutoAdmittedUsers'; e = { [string]$_.AutoAdmittedUsers } },
        AllowPSTNUsersToBypassLobby, AllowCloudRecording, AllowTranscription,
        AllowExternalParticipantGiveRequestControl, AllowExternalNonTrustedMeetingChat,
        AllowMeetNow, NewMeetingRecordingExpirationDays)

    Write-Export 'teams-app-permission-policies.json' (Get-CsTeamsAppPermissionPolicy | Select-Object `
            @{ n = 'Identity'; e = { [string]$_.Identity } },
        @{ n = 'DefaultCatalogAppsType'; e = { [string]$_.DefaultCatalogAppsType } },
        @{ n = 'DefaultCatalogApps'; e = { Get-AppIds $_.DefaultCatalogApps } },
        @{ n = 'GlobalCatalogAppsType'; e = { [string]$_.GlobalCatalogAppsType } },
        @{ n = 'GlobalCatalogApps'; e = { Get-AppIds $_.GlobalCatalogApps } },
        @{ n = 'PrivateCatalogAppsType'; e = { [string]$_.PrivateCatalogAppsType } },
        @{ n = 'PrivateCatalogApps'; e = { Get-AppIds $_.PrivateCatalogApps } })

    Write-Export 'teams-messaging-policies.json' (Get-CsTeamsMessagingPolicy | Select-Object `
            @{ n = 'Identity'; e = { [string]$_.Identity } },
        AllowUserDeleteMessage, AllowUserEditMessage, AllowUserDeleteChat, AllowOwnerDeleteMessage)

    # Channel email addresses, and the sender domains allowed to use them (a
    # semicolon-separated string; empty: anyone).
    Write-Export 'teams-client-configuration.json' (Get-CsTeamsClientConfiguration | Select-Object `
            @{ n = 'Identity'; e = { [string]$_.Identity } }, AllowEmailIntoChannel,
        @{ n = 'RestrictedSenderList'; e = { [string]$_.RestrictedSenderList } })

    # App-centric management: org-wide app settings (DefaultApp, GlobalApp, PrivateApp)
    # decide which apps users may add; the permission policies above no longer apply once
    # a tenant is migrated. The cmdlet needs a signed-in admin (not certificate sign-in).
    try {
        $appSettings = @(Get-M365UnifiedTenantSettings -ErrorAction Stop | Select-Object `
                @{ n = 'SettingName'; e = { [string]$_.SettingName } },
            @{ n = 'SettingValue'; e = { [string]$_.SettingValue } })
        if ($appSettings.Count -gt 0) {
            Write-Export 'teams-app-settings.json' $appSettings
        }
        else {
            $Errors['teams-app-settings.json'] = 'Get-M365UnifiedTenantSettings returned no settings'
        }
    }
    catch {
        $Errors['teams-app-settings.json'] = "Get-M365UnifiedTenantSettings failed: $($_.Exception.Message)"
        Write-Warning $Errors['teams-app-settings.json']
    }
}

if (-not $SkipExchange) {
    Import-Module ExchangeOnlineManagement
    $exoArgs = @{ ShowBanner = $false; ExchangeEnvironmentName = $ExchangeEnvironmentName }
    if ($UserPrincipalName) { $exoArgs['UserPrincipalName'] = $UserPrincipalName }
    Connect-ExchangeOnline @exoArgs

    Write-Export 'exchange-remote-domains.json' (Get-RemoteDomain | Select-Object `
            @{ n = 'Identity'; e = { [string]$_.Identity } },
        @{ n = 'DomainName'; e = { [string]$_.DomainName } },
        AutoForwardEnabled, AutoReplyEnabled, DeliveryReportEnabled, NDREnabled)

    Write-Export 'exchange-outbound-spam-policies.json' (Get-HostedOutboundSpamFilterPolicy | Select-Object `
            @{ n = 'Identity'; e = { [string]$_.Identity } }, IsDefault,
        @{ n = 'AutoForwardingMode'; e = { [string]$_.AutoForwardingMode } })

    Write-Export 'exchange-transport-config.json' (Get-TransportConfig | Select-Object `
            SmtpClientAuthenticationDisabled)

    if (-not $SkipMailboxes) {
        Write-Export 'exchange-cas-mailboxes.json' (Get-CASMailbox -ResultSize Unlimited | Select-Object `
                @{ n = 'PrimarySmtpAddress'; e = { [string]$_.PrimarySmtpAddress } },
            SmtpClientAuthenticationDisabled)

        # Forwarding set on the mailbox itself (mailbox properties), which inbox rules do not
        # show. ForwardingAddress names a recipient object (a mail contact or user), not an
        # address: Get-Recipient resolves it, once per recipient.
        $recipients = @{}
        Write-Export 'exchange-mailbox-forwarding.json' (Get-Mailbox -ResultSize Unlimited | Select-Object `
                @{ n = 'UserPrincipalName'; e = { [string]$_.UserPrincipalName } },
            @{ n = 'PrimarySmtpAddress'; e = { [string]$_.PrimarySmtpAddress } },
            @{ n = 'ForwardingSmtpAddress'; e = { if ($_.ForwardingSmtpAddress) { [string]$_.ForwardingSmtpAddress } } },
            @{ n = 'ForwardingAddress'; e = { if ($_.ForwardingAddress) { [string]$_.ForwardingAddress } } },
            @{ n = 'ForwardingRecipientAddress'; e = {
                    $fa = [string]$_.ForwardingAddress
                    if (-not $fa) { return $null }
                    if (-not $recipients.ContainsKey($fa)) {
                        $r = Get-Recipient -Identity $fa -ErrorAction SilentlyContinue
                        $addr = [string](Get-Prop $r 'ExternalEmailAddress')
                        if (-not $addr) { $addr = [string](Get-Prop $r 'PrimarySmtpAddress') }
                        $recipients[$fa] = $addr
                    }
                    $recipients[$fa]
                }
            },
            DeliverToMailboxAndForward)
    }

    # Unified audit log ingestion (true to life only in Exchange Online PowerShell; the
    # Security & Compliance module always says False) and mailbox auditing by default.
    Write-Export 'exchange-admin-audit-log-config.json' (Get-AdminAuditLogConfig | Select-Object `
            UnifiedAuditLogIngestionEnabled, AdminAuditLogEnabled)
    Write-Export 'exchange-organization-config.json' (Get-OrganizationConfig | Select-Object `
            @{ n = 'Identity'; e = { [string]$_.Identity } }, AuditDisabled)

    # Calendar and contacts sharing with outside domains: each Domains entry as
    # "domain:Action1, Action2" ("*" is every domain, "Anonymous" calendar publishing).
    Write-Export 'exchange-sharing-policies.json' (Get-SharingPolicy | Select-Object `
            @{ n = 'Name'; e = { [string]$_.Name } }, Enabled, Default,
        @{ n = 'Domains'; e = { @($_.Domains | ForEach-Object { [string]$_ }) } })

    # Outlook's "External" tag on mail from outside the organisation.
    Write-Export 'exchange-external-in-outlook.json' (Get-ExternalInOutlook | Select-Object `
            @{ n = 'Identity'; e = { [string]$_.Identity } }, Enabled,
        @{ n = 'AllowList'; e = { @($_.AllowList | ForEach-Object { [string]$_ }) } })
    Disconnect-ExchangeOnline -Confirm:$false | Out-Null
}

if (-not $SkipCompliance) {
    # Retention policies and holds live in Security & Compliance PowerShell (same module).
    Import-Module ExchangeOnlineManagement
    $ippArgs = @{ ShowBanner = $false }
    if ($UserPrincipalName) { $ippArgs['UserPrincipalName'] = $UserPrincipalName }
    # Locations as their names ("All" for everyone).
    $loc = { param($List) , @(@($List) | Where-Object { $null -ne $_ } | ForEach-Object { if (Get-Prop $_ 'Name') { [string]$_.Name } else { [string]$_ } }) }
    try {
        Connect-IPPSSession @ippArgs
        $policies = @(Get-RetentionCompliancePolicy -DistributionDetail)
        $names = @{}
        foreach ($p in $policies) { $names[[string]$p.Guid] = [string]$p.Name }
        Write-Export 'compliance-retention-policies.json' ($policies | Select-Object `
                @{ n = 'Name'; e = { [string]$_.Name } },
            @{ n = 'Guid'; e = { [string]$_.Guid } }, Enabled,
            @{ n = 'Mode'; e = { [string]$_.Mode } },
            @{ n = 'DistributionStatus'; e = { [string]$_.DistributionStatus } },
            IsAdaptivePolicy,
            @{ n = 'AdaptiveScopeLocation'; e = { & $loc $_.AdaptiveScopeLocation } },
            @{ n = 'TeamsChatLocation'; e = { & $loc $_.TeamsChatLocation } },
            @{ n = 'TeamsChatLocationException'; e = { & $loc $_.TeamsChatLocationException } },
            @{ n = 'TeamsChannelLocation'; e = { & $loc $_.TeamsChannelLocation } },
            @{ n = 'TeamsChannelLocationException'; e = { & $loc $_.TeamsChannelLocationException } },
            @{ n = 'ExchangeLocation'; e = { & $loc $_.ExchangeLocation } },
            @{ n = 'ExchangeLocationException'; e = { & $loc $_.ExchangeLocationException } })
        Write-Export 'compliance-retention-rules.json' (Get-RetentionComplianceRule | Select-Object `
                @{ n = 'Name'; e = { [string]$_.Name } },
            @{ n = 'Policy'; e = { [string]$_.Policy } },
            @{ n = 'PolicyName'; e = { $names[[string]$_.Policy] } },
            @{ n = 'RetentionDuration'; e = { [string]$_.RetentionDuration } },
            @{ n = 'RetentionComplianceAction'; e = { [string]$_.RetentionComplianceAction } },
            @{ n = 'ExpirationDateOption'; e = { [string]$_.ExpirationDateOption } },
            @{ n = 'PublishComplianceTag'; e = { [string]$_.PublishComplianceTag } },
            @{ n = 'ApplyComplianceTag'; e = { [string]$_.ApplyComplianceTag } }, Disabled, Mode)
    }
    catch {
        $Errors['compliance-retention-policies.json'] = "Security & Compliance PowerShell failed: $($_.Exception.Message)"
        Write-Warning $Errors['compliance-retention-policies.json']
    }
    try {
        # eDiscovery holds (cases and their hold policies); needs eDiscovery Manager.
        $holds = @(Get-ComplianceCase -ErrorAction Stop | ForEach-Object {
                Get-CaseHoldPolicy -Case ([string]$_.Identity) -ErrorAction Stop })
        Write-Export 'compliance-case-hold-policies.json' ($holds | Select-Object `
                @{ n = 'Name'; e = { [string]$_.Name } }, Enabled,
            @{ n = 'ExchangeLocation'; e = { & $loc $_.ExchangeLocation } })
    }
    catch {
        $Errors['compliance-case-hold-policies.json'] = "Get-CaseHoldPolicy failed: $($_.Exception.Message)"
        Write-Warning $Errors['compliance-case-hold-policies.json']
    }
    Disconnect-ExchangeOnline -Confirm:$false -ErrorAction SilentlyContinue | Out-Null
}

$modules = @{}
foreach ($m in 'MicrosoftTeams', 'ExchangeOnlineManagement') {
    $found = Get-Module -Name $m | Select-Object -First 1
    if ($found) { $modules[$m] = [string]$found.Version }
}
Write-Export 'export-info.json' ([pscustomobject]@{
        ExportedAt    = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
        ScriptVersion = $ScriptVersion
        Modules       = $modules
        Files         = $Written
        Errors        = $Errors
    })
